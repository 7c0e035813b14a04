//! Routing rules as data: for each event type and department, the GraphQL
//! mutation to run against that department's subgraph (or none: the
//! department pulls the event from its feed) and where each of its variables
//! comes from in the event. Rules live in TOML files under `schema/routes/`;
//! the binary carries a copy, and `[tellonce] routes_dir` points at others.
//!
//! ```toml
//! [[route]]
//! name = "death-hmrc"            # unique; named in every error about the rule
//! event = "death"                # a field of LifeEventInput
//! department = "hmrc"            # a subgraph of the supergraph
//! document = """mutation($nino: String!, $idempotencyKey: String!) { … }"""
//! idempotency_key_variable = "idempotencyKey"   # the default
//! [route.variables]
//! nino = "nino"                  # a path into the event (dots for nesting)
//! company = { companyNumber = "companyNumber" } # an input object built from paths
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value as Json};

/// The rule files built into the binary, by file name.
pub const BUILTIN_RULE_FILES: &[(&str, &str)] = &[
    ("birth.toml", include_str!("../../schema/routes/birth.toml")),
    (
        "business_ceased.toml",
        include_str!("../../schema/routes/business_ceased.toml"),
    ),
    (
        "business_registered.toml",
        include_str!("../../schema/routes/business_registered.toml"),
    ),
    (
        "change_of_address.toml",
        include_str!("../../schema/routes/change_of_address.toml"),
    ),
    (
        "change_of_name.toml",
        include_str!("../../schema/routes/change_of_name.toml"),
    ),
    ("death.toml", include_str!("../../schema/routes/death.toml")),
    (
        "marriage_or_civil_partnership.toml",
        include_str!("../../schema/routes/marriage_or_civil_partnership.toml"),
    ),
];

/// Where a variable's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum VariableSource {
    /// A dotted path into the event's fields, e.g. `address.postcode`.
    Path(String),
    /// An input object whose fields come from their own sources.
    Object(BTreeMap<String, VariableSource>),
}

/// How a department hears of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryMode {
    /// The hub runs the rule's mutation against the department.
    Push,
    /// The department reads its feed and acknowledges.
    Pull,
}

impl DeliveryMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryMode::Push => "PUSH",
            DeliveryMode::Pull => "PULL",
        }
    }
}

/// One routing rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    pub name: String,
    pub event: String,
    pub department: String,
    /// The mutation to run; absent for a department that pulls.
    pub document: Option<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, VariableSource>,
    #[serde(default = "default_key_variable")]
    pub idempotency_key_variable: String,
    /// The file the rule came from (for messages).
    #[serde(skip)]
    pub file: String,
}

fn default_key_variable() -> String {
    "idempotencyKey".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    route: Vec<RouteRule>,
}

/// Why the rules cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("cannot read the routing rules in {path}: {message}")]
    Read { path: String, message: String },
    #[error("routing rule file {file} is not valid: {message}")]
    Parse { file: String, message: String },
    #[error("routing rule {rule} ({file}): {message}")]
    Rule {
        rule: String,
        file: String,
        message: String,
    },
    #[error("no routing rule tells anyone of {}: the hub would accept such events and tell no one; add a rule for each (see schema/routes/)", .events.join(", "))]
    Unrouted { events: Vec<&'static str> },
}

/// `Ok` when every kind of life event has at least one rule.
pub fn check_every_event_routed(rules: &[RouteRule]) -> Result<(), RouteError> {
    let events: Vec<&'static str> = super::LifeEventType::all()
        .iter()
        .map(|t| t.input_field())
        .filter(|event| !rules.iter().any(|r| r.event == *event))
        .collect();
    if events.is_empty() {
        Ok(())
    } else {
        Err(RouteError::Unrouted { events })
    }
}

impl RouteRule {
    pub fn mode(&self) -> DeliveryMode {
        if self.document.is_some() {
            DeliveryMode::Push
        } else {
            DeliveryMode::Pull
        }
    }

    /// An error about this rule.
    pub fn error(&self, message: impl Into<String>) -> RouteError {
        RouteError::Rule {
            rule: self.name.clone(),
            file: self.file.clone(),
            message: message.into(),
        }
    }

    /// The variables this rule gives its department from `fields`: only
    /// what it names.
    pub fn variables_from(&self, fields: &Json) -> Map<String, Json> {
        self.variables
            .iter()
            .map(|(name, source)| (name.clone(), source.resolve(fields)))
            .collect()
    }
}

impl VariableSource {
    fn resolve(&self, fields: &Json) -> Json {
        match self {
            VariableSource::Path(path) => path
                .split('.')
                .try_fold(fields, |value, key| value.get(key))
                .cloned()
                .unwrap_or(Json::Null),
            VariableSource::Object(members) => Json::Object(
                members
                    .iter()
                    .map(|(name, source)| (name.clone(), source.resolve(fields)))
                    .collect(),
            ),
        }
    }
}

/// Parses rule files given as `(file name, text)`; names must be unique.
pub fn parse_rules<'a>(
    files: impl IntoIterator<Item = (String, &'a str)>,
) -> Result<Vec<RouteRule>, RouteError> {
    let mut rules: Vec<RouteRule> = Vec::new();
    for (file, text) in files {
        let parsed: RuleFile = toml::from_str(text).map_err(|e| RouteError::Parse {
            file: file.clone(),
            message: e.to_string(),
        })?;
        for mut rule in parsed.route {
            rule.file = file.clone();
            if rules.iter().any(|r| r.name == rule.name) {
                return Err(rule.error("another rule has the same name"));
            }
            rules.push(rule);
        }
    }
    Ok(rules)
}

/// The rules built into the binary.
pub fn builtin_rules() -> Result<Vec<RouteRule>, RouteError> {
    parse_rules(
        BUILTIN_RULE_FILES
            .iter()
            .map(|(name, text)| (format!("schema/routes/{name}"), *text)),
    )
}

/// Every `*.toml` file in `dir`, in name order.
pub fn load_rules(dir: &Path) -> Result<Vec<RouteRule>, RouteError> {
    let read_error = |e: std::io::Error| RouteError::Read {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_error)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut texts = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| RouteError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        texts.push((path.display().to_string(), text));
    }
    parse_rules(texts.iter().map(|(f, t)| (f.clone(), t.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_rules_are_the_files_in_schema_routes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/routes");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let built: Vec<String> = BUILTIN_RULE_FILES
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        assert_eq!(on_disk, built);
        assert!(builtin_rules().unwrap().len() >= 9);
    }

    #[test]
    fn variables_carry_only_what_the_rule_names() {
        let rules = parse_rules([(
            "t.toml".to_string(),
            r#"
[[route]]
name = "r"
event = "death"
department = "d"
document = "mutation { x }"
[route.variables]
n = "nino"
o = { p = "address.postcode" }
"#,
        )])
        .unwrap();
        let fields = serde_json::json!({
            "nino": "AB123456C", "familyName": "Smith", "address": { "postcode": "M1 1AE", "town": "X" }
        });
        let vars = rules[0].variables_from(&fields);
        assert_eq!(
            Json::Object(vars),
            serde_json::json!({ "n": "AB123456C", "o": { "p": "M1 1AE" } })
        );
    }
}
