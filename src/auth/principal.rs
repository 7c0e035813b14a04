//! Who is asking: the principal a request runs as, from an API key, a JWT or
//! nothing (anonymous), with its kind and scopes.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What sort of party a principal is. The hub's rules (ownership, who may
/// tell a life event, who may replay dead letters) are written in kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// No credential was presented.
    Anonymous,
    /// A government department, bound to its subgraph name.
    Department,
    /// A border agency, bound to its agency name.
    Agency,
    /// A frontend service acting for its users.
    Frontend,
    /// A person operating the hub.
    Operator,
    /// A registration service (e.g. a register office) that reports life events.
    Registrar,
    /// A member of the public, identified by their National Insurance number.
    Citizen,
    /// The hub itself (notification delivery); never issued to a client.
    Hub,
}

impl PrincipalKind {
    pub const ALL: [PrincipalKind; 8] = [
        PrincipalKind::Anonymous,
        PrincipalKind::Department,
        PrincipalKind::Agency,
        PrincipalKind::Frontend,
        PrincipalKind::Operator,
        PrincipalKind::Registrar,
        PrincipalKind::Citizen,
        PrincipalKind::Hub,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Anonymous => "anonymous",
            PrincipalKind::Department => "department",
            PrincipalKind::Agency => "agency",
            PrincipalKind::Frontend => "frontend",
            PrincipalKind::Operator => "operator",
            PrincipalKind::Registrar => "registrar",
            PrincipalKind::Citizen => "citizen",
            PrincipalKind::Hub => "hub",
        }
    }

    /// The kind named `text`, as stored and as written in configuration.
    pub fn parse(text: &str) -> Option<PrincipalKind> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Kinds a client credential may carry (anonymous and hub are the hub's own).
    pub fn issuable(self) -> bool {
        !matches!(self, PrincipalKind::Anonymous | PrincipalKind::Hub)
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The party a request runs as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Stable id recorded as the actor of every ledger entry the principal
    /// causes, e.g. `key:7f3a…` for an API key or `jwt:<iss>#<sub>`.
    pub id: String,
    pub kind: PrincipalKind,
    pub scopes: BTreeSet<String>,
    /// For a department or agency: the subgraph (or agency) name it acts for.
    pub department: Option<String>,
    /// For a citizen: their National Insurance number, canonical form.
    pub nino: Option<String>,
    /// The token's claims (JWT) or the key's recorded attributes, for policies.
    #[serde(default)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// The id of the hub's own delivery principal.
pub const HUB_PRINCIPAL_ID: &str = "hub:delivery";

impl Principal {
    /// No credential: may read only what the configuration marks public.
    pub fn anonymous() -> Principal {
        Principal {
            id: "anonymous".into(),
            kind: PrincipalKind::Anonymous,
            scopes: BTreeSet::new(),
            department: None,
            nino: None,
            claims: serde_json::Map::new(),
        }
    }

    /// The hub itself, as its delivery workers tell departments.
    pub fn hub() -> Principal {
        Principal {
            id: HUB_PRINCIPAL_ID.into(),
            kind: PrincipalKind::Hub,
            scopes: BTreeSet::new(),
            department: None,
            nino: None,
            claims: serde_json::Map::new(),
        }
    }

    pub fn is_anonymous(&self) -> bool {
        self.kind == PrincipalKind::Anonymous
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// A department or agency principal acting for `name`.
    pub fn acts_for(&self, name: &str) -> bool {
        matches!(self.kind, PrincipalKind::Department | PrincipalKind::Agency)
            && self.department.as_deref() == Some(name)
    }
}
