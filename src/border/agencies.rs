//! The organisations acting at the border, as data: each agency's scope
//! (which consignments it assesses), its lead rank, and, where it has them,
//! the subgraph the hub asks and the principal that records its outcomes.
//! Read from `schema/border/agencies.toml` (built in) or the configured
//! file, validated whole before it is used: a file with an unknown field, a
//! bad code range, an unknown flag, country or post, or an agency named
//! twice is refused with a message naming it.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Deserialize;

use super::countries::is_country;
use super::declaration::Declaration;
use super::places::Places;
use super::BorderDataError;

/// The agencies file built into the binary.
pub const BUILTIN_AGENCIES: &str = include_str!("../../schema/border/agencies.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgenciesFile {
    #[serde(default)]
    trader_flag: Vec<TraderFlagFile>,
    #[serde(default)]
    agency: Vec<AgencyFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TraderFlagFile {
    code: String,
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgencyFile {
    id: String,
    name: String,
    parent: Option<String>,
    lead_rank: i64,
    subgraph: Option<String>,
    principal: Option<String>,
    description: String,
    scope: ScopeFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ScopeFile {
    all: bool,
    commodities: Vec<String>,
    origins: Vec<String>,
    exclude_origins: Vec<String>,
    border_control_posts: Vec<String>,
    procedure_codes: Vec<String>,
    trader_flags: Vec<String>,
}

/// A run of commodity codes: every code whose first `low.len()` digits
/// lie between `low` and `high` (a single prefix has `low == high`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommodityRange {
    low: String,
    high: String,
}

impl CommodityRange {
    /// `"01"`, `"0201-0210"` or `"060210"`: prefixes of 2, 4 or 6 digits,
    /// both ends of a range the same length, the first not above the second.
    fn parse(text: &str) -> Result<CommodityRange, String> {
        let (low, high) = text.split_once('-').unwrap_or((text, text));
        let well_formed =
            |p: &str| matches!(p.len(), 2 | 4 | 6) && p.bytes().all(|b| b.is_ascii_digit());
        if !well_formed(low) || !well_formed(high) {
            return Err("a commodity prefix is a chapter (2 digits), heading (4) or subheading (6), or a range AAAA-BBBB of two of them".into());
        }
        if low.len() != high.len() {
            return Err(
                "both ends of a commodity range must have the same number of digits".into(),
            );
        }
        if low > high {
            return Err("a commodity range must not end before it starts".into());
        }
        Ok(CommodityRange {
            low: low.to_owned(),
            high: high.to_owned(),
        })
    }

    /// Whether a full (8- or 10-digit) commodity code falls in the range.
    pub fn contains(&self, code: &str) -> bool {
        code.get(..self.low.len())
            .is_some_and(|prefix| prefix >= self.low.as_str() && prefix <= self.high.as_str())
    }
}

/// Which consignments an agency assesses.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub all: bool,
    pub commodities: Vec<CommodityRange>,
    pub origins: BTreeSet<String>,
    pub exclude_origins: BTreeSet<String>,
    pub border_control_posts: BTreeSet<String>,
    pub procedure_codes: Vec<String>,
    pub trader_flags: BTreeSet<String>,
}

impl Scope {
    /// `all`, or every criterion the scope names matches.
    pub fn covers(&self, declaration: &Declaration) -> bool {
        if self.all {
            return true;
        }
        let commodities = self.commodities.is_empty()
            || declaration.items.iter().any(|item| {
                self.commodities
                    .iter()
                    .any(|r| r.contains(&item.commodity_code))
            });
        let origins = self.origins.is_empty() || self.origins.contains(&declaration.origin_country);
        let excluded = self.exclude_origins.contains(&declaration.origin_country);
        let posts = self.border_control_posts.is_empty()
            || declaration
                .border_control_post
                .as_ref()
                .is_some_and(|post| self.border_control_posts.contains(post));
        let procedures = self.procedure_codes.is_empty()
            || self
                .procedure_codes
                .iter()
                .any(|code| declaration.procedure_code.starts_with(code.as_str()));
        let flags = self.trader_flags.is_empty()
            || declaration
                .trader_flags
                .iter()
                .any(|f| self.trader_flags.contains(f));
        commodities && origins && !excluded && posts && procedures && flags
    }
}

/// One organisation acting at the border.
#[derive(Debug, Clone)]
pub struct Agency {
    pub id: String,
    pub name: String,
    pub parent: Option<String>,
    /// Lower ranks lead a joint inspection.
    pub lead_rank: i64,
    /// The subgraph the hub asks for assessments, if the agency has one.
    pub subgraph: Option<String>,
    /// The agency principal (`principal.department`) that records its outcomes.
    pub principal: Option<String>,
    pub description: String,
    pub scope: Scope,
}

impl Agency {
    /// Whether `principal` is this agency's own (an agency principal bound to it).
    pub fn is_acted_for_by(&self, principal: &crate::auth::Principal) -> bool {
        principal.kind == crate::auth::PrincipalKind::Agency
            && self
                .principal
                .as_deref()
                .is_some_and(|name| principal.acts_for(name))
    }
}

/// Every agency, in file order, with the trader flags they may name.
#[derive(Debug, Clone)]
pub struct AgencyRegistry {
    agencies: Vec<Agency>,
    by_id: HashMap<String, usize>,
    trader_flags: Vec<(String, String)>,
}

impl AgencyRegistry {
    /// Parses and checks an agencies file against the reference places.
    /// `source` names the file in messages.
    pub fn parse(
        text: &str,
        source: &str,
        places: &Places,
    ) -> Result<AgencyRegistry, BorderDataError> {
        let refuse = |message: String| BorderDataError {
            file: source.to_owned(),
            message,
        };
        let file: AgenciesFile = toml::from_str(text).map_err(|e| refuse(e.to_string()))?;
        let mut flags = Vec::new();
        let mut flag_codes = HashSet::new();
        for flag in file.trader_flag {
            let code = flag.code.trim();
            if code.is_empty()
                || !code
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(refuse(format!(
                    "trader flag {code:?}: a code is SCREAMING_SNAKE_CASE"
                )));
            }
            if !flag_codes.insert(code.to_owned()) {
                return Err(refuse(format!("trader flag {code} is defined twice")));
            }
            flags.push((code.to_owned(), flag.description));
        }
        let mut agencies = Vec::with_capacity(file.agency.len());
        let mut by_id = HashMap::new();
        let mut subgraphs = HashSet::new();
        for agency in file.agency {
            let id = agency.id.trim().to_owned();
            let at = |message: String| refuse(format!("agency {id}: {message}"));
            let kebab = !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !kebab {
                return Err(refuse(format!(
                    "agency {id:?}: an id is lowercase kebab-case"
                )));
            }
            if by_id.insert(id.clone(), agencies.len()).is_some() {
                return Err(refuse(format!("agency {id} is named twice")));
            }
            if agency.name.trim().is_empty() {
                return Err(at("name must not be empty".into()));
            }
            if let Some(subgraph) = &agency.subgraph {
                if !subgraphs.insert(subgraph.clone()) {
                    return Err(at(format!(
                        "subgraph {subgraph} already belongs to another agency"
                    )));
                }
            }
            let scope = parse_scope(agency.scope, &flag_codes, places).map_err(at)?;
            agencies.push(Agency {
                principal: agency
                    .principal
                    .or_else(|| agency.subgraph.as_ref().map(|_| id.clone())),
                id,
                name: agency.name,
                parent: agency.parent,
                lead_rank: agency.lead_rank,
                subgraph: agency.subgraph,
                description: agency.description,
                scope,
            });
        }
        if agencies.is_empty() {
            return Err(refuse("no [[agency]] is listed".into()));
        }
        Ok(AgencyRegistry {
            agencies,
            by_id,
            trader_flags: flags,
        })
    }

    pub fn all(&self) -> &[Agency] {
        &self.agencies
    }

    pub fn get(&self, id: &str) -> Option<&Agency> {
        self.by_id.get(id).map(|&i| &self.agencies[i])
    }

    /// The trader flags a declaration may carry: (code, description).
    pub fn trader_flags(&self) -> &[(String, String)] {
        &self.trader_flags
    }

    pub fn is_trader_flag(&self, code: &str) -> bool {
        self.trader_flags.iter().any(|(c, _)| c == code)
    }

    /// The agencies that assess `declaration`, in file order.
    pub fn in_scope<'a>(
        &'a self,
        declaration: &'a Declaration,
    ) -> impl Iterator<Item = &'a Agency> + 'a {
        self.agencies.iter().filter(|a| a.scope.covers(declaration))
    }
}

fn parse_scope(
    scope: ScopeFile,
    flags: &HashSet<String>,
    places: &Places,
) -> Result<Scope, String> {
    let named = !scope.commodities.is_empty()
        || !scope.origins.is_empty()
        || !scope.exclude_origins.is_empty()
        || !scope.border_control_posts.is_empty()
        || !scope.procedure_codes.is_empty()
        || !scope.trader_flags.is_empty();
    if !scope.all && !named {
        return Err("its scope names nothing: set all = true or name a criterion".into());
    }
    let commodities = scope
        .commodities
        .iter()
        .map(|c| CommodityRange::parse(c.trim()).map_err(|rule| format!("commodity {c:?}: {rule}")))
        .collect::<Result<Vec<_>, _>>()?;
    let countries = |list: Vec<String>, what: &str| -> Result<BTreeSet<String>, String> {
        list.into_iter()
            .map(|c| {
                if is_country(&c) {
                    Ok(c)
                } else {
                    Err(format!(
                        "{what} {c:?} is not an ISO 3166-1 alpha-2 country code"
                    ))
                }
            })
            .collect()
    };
    let origins = countries(scope.origins, "origin")?;
    let exclude_origins = countries(scope.exclude_origins, "excluded origin")?;
    for post in &scope.border_control_posts {
        if places.border_control_post(post).is_none() {
            return Err(format!(
                "border control post {post:?} is not in the places file"
            ));
        }
    }
    for code in &scope.procedure_codes {
        if !matches!(code.len(), 2 | 4) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "procedure code {code:?}: a procedure code is 4 digits, or 2 for the requested procedure"
            ));
        }
    }
    for flag in &scope.trader_flags {
        if !flags.contains(flag) {
            return Err(format!(
                "trader flag {flag:?} is not defined by a [[trader_flag]]"
            ));
        }
    }
    Ok(Scope {
        all: scope.all,
        commodities,
        origins,
        exclude_origins,
        border_control_posts: scope.border_control_posts.into_iter().collect(),
        procedure_codes: scope.procedure_codes,
        trader_flags: scope.trader_flags.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_file_lists_every_agency_acting_at_the_border() {
        let places = Places::builtin().expect("places");
        let registry =
            AgencyRegistry::parse(BUILTIN_AGENCIES, "built in", &places).expect("agencies");
        assert_eq!(registry.all().len(), 28);
        let connected: Vec<&str> = registry
            .all()
            .iter()
            .filter(|a| a.subgraph.is_some())
            .map(|a| a.id.as_str())
            .collect();
        assert_eq!(
            connected,
            [
                "border-force",
                "hmrc-customs",
                "apha",
                "plant-health",
                "port-health",
                "fsa"
            ]
        );
    }

    #[test]
    fn ranges_are_prefixes_of_equal_length() {
        let range = CommodityRange::parse("0201-0210").expect("range");
        assert!(range.contains("02013000"));
        assert!(range.contains("0210990000"));
        assert!(!range.contains("02110000"));
        assert!(CommodityRange::parse("01")
            .expect("chapter")
            .contains("01022910"));
        for bad in ["1", "021-0210", "0210-0201", "ab", "0201-", "12345"] {
            assert!(CommodityRange::parse(bad).is_err(), "{bad}");
        }
    }
}
