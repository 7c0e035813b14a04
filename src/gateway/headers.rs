//! Which headers reach which subgraph: only what a rule says (propagate a
//! client header, possibly renamed or defaulted; insert a fixed one; remove
//! one an earlier rule added), for every subgraph and then per subgraph,
//! plus the hub's own signed statement of who is asking. The client's
//! `Authorization` is not forwarded unless a rule propagates it.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::context::RequestContext;
use crate::auth::Principal;

/// One header rule, written in TOML as e.g.
/// `{ propagate = { named = "accept-language" } }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HeaderRule {
    /// Send the client's header on, as `rename` when given; `default` when
    /// the client sent none.
    Propagate {
        named: String,
        #[serde(default)]
        rename: Option<String>,
        #[serde(default)]
        default: Option<String>,
    },
    /// Send a fixed header.
    Insert { name: String, value: String },
    /// Drop a header an earlier rule added.
    Remove { named: String },
}

/// The `[headers]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeadersConfig {
    /// Rules for every subgraph, applied first.
    pub all: Vec<HeaderRule>,
    /// Rules for one subgraph, by name, applied after `all`.
    pub subgraphs: HashMap<String, Vec<HeaderRule>>,
}

/// Signs the hub's statement of who is asking, for one subgraph.
pub trait IdentityTokens: Send + Sync {
    /// The header name and the token for `principal` calling `audience`.
    fn identity_header(&self, principal: &Principal, audience: &str) -> (String, Arc<str>);
}

impl IdentityTokens for crate::auth::hub_token::HubIdentity {
    fn identity_header(&self, principal: &Principal, audience: &str) -> (String, Arc<str>) {
        (
            crate::auth::hub_token::HUB_TOKEN_HEADER.to_string(),
            self.token_for(principal, audience),
        )
    }
}

/// Header rules in force, with the hub's identity tokens when configured.
#[derive(Clone, Default)]
pub struct OutboundHeaders {
    config: HeadersConfig,
    identity: Option<Arc<dyn IdentityTokens>>,
}

impl OutboundHeaders {
    pub fn new(config: HeadersConfig, identity: Option<Arc<dyn IdentityTokens>>) -> Self {
        // Header names compare case-insensitively: keep them lower case.
        let lower = |rules: &mut Vec<HeaderRule>| {
            for rule in rules {
                match rule {
                    HeaderRule::Propagate { named, rename, .. } => {
                        named.make_ascii_lowercase();
                        if let Some(rename) = rename {
                            rename.make_ascii_lowercase();
                        }
                    }
                    HeaderRule::Insert { name, .. } => name.make_ascii_lowercase(),
                    HeaderRule::Remove { named } => named.make_ascii_lowercase(),
                }
            }
        };
        let mut config = config;
        lower(&mut config.all);
        config.subgraphs.values_mut().for_each(lower);
        OutboundHeaders { config, identity }
    }

    /// The client headers some rule propagates (lower case).
    pub fn propagated(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .config
            .all
            .iter()
            .chain(self.config.subgraphs.values().flatten())
            .filter_map(|rule| match rule {
                HeaderRule::Propagate { named, .. } => Some(named.clone()),
                _ => None,
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The headers one call to `subgraph` carries for the request `ctx`.
    /// `in_process` subgraphs get the principal directly, not a token.
    pub fn for_subgraph(
        &self,
        subgraph: &str,
        ctx: &RequestContext,
        in_process: bool,
    ) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let rules = self
            .config
            .all
            .iter()
            .chain(self.config.subgraphs.get(subgraph).into_iter().flatten());
        for rule in rules {
            match rule {
                HeaderRule::Propagate {
                    named,
                    rename,
                    default,
                } => {
                    let value = ctx
                        .client_headers
                        .iter()
                        .find(|(name, _)| name.eq_ignore_ascii_case(named))
                        .map(|(_, value)| value.clone())
                        .or_else(|| default.clone());
                    if let Some(value) = value {
                        set(&mut out, rename.as_ref().unwrap_or(named), value);
                    }
                }
                HeaderRule::Insert { name, value } => set(&mut out, name, value.clone()),
                HeaderRule::Remove { named } => out.retain(|(name, _)| name != named),
            }
        }
        if !in_process {
            if let Some(identity) = &self.identity {
                let (name, token) = identity.identity_header(&ctx.principal, subgraph);
                set(&mut out, &name, token.to_string());
            }
        }
        for (name, value) in &ctx.extra_headers {
            set(&mut out, name, value.clone());
        }
        out
    }
}

fn set(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    match headers.iter_mut().find(|(n, _)| n == name) {
        Some(slot) => slot.1 = value,
        None => headers.push((name.to_string(), value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(headers: &[(&str, &str)]) -> RequestContext {
        let mut ctx = RequestContext::anonymous();
        ctx.client_headers = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into();
        ctx
    }

    #[test]
    fn only_what_a_rule_names_is_forwarded() {
        let config: HeadersConfig = toml::from_str(
            r#"
            all = [
              { propagate = { named = "Accept-Language" } },
              { propagate = { named = "x-client", rename = "x-caller", default = "unknown" } },
              { insert = { name = "x-hub", value = "tellonce" } },
            ]
            [subgraphs]
            hmrc = [ { remove = { named = "x-hub" } }, { propagate = { named = "authorization" } } ]
            "#,
        )
        .expect("config");
        let rules = OutboundHeaders::new(config, None);
        let request = ctx(&[
            ("authorization", "Bearer secret"),
            ("accept-language", "cy"),
        ]);
        let dvla = rules.for_subgraph("dvla", &request, false);
        assert_eq!(
            dvla,
            vec![
                ("accept-language".into(), "cy".into()),
                ("x-caller".into(), "unknown".into()),
                ("x-hub".into(), "tellonce".into()),
            ]
        );
        let hmrc = rules.for_subgraph("hmrc", &request, false);
        assert!(hmrc.contains(&("authorization".into(), "Bearer secret".into())));
        assert!(!hmrc.iter().any(|(n, _)| n == "x-hub"));
    }
}
