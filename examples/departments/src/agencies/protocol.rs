//! The GraphQL types of the hub's risk-assessment protocol, identical in every agency's
//! subgraph: the consignment the hub asks about and the assessment an agency answers with.

use async_graphql::{Enum, InputObject, SimpleObject};

/// The organisation a subgraph speaks for.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct AgencyProfile {
    /// The subgraph name, e.g. `apha`.
    pub id: String,
    pub name: String,
}

/// A declared consignment, as the hub sends it to every agency in scope.
#[derive(Debug, Clone, InputObject)]
pub struct ConsignmentAssessmentInput {
    /// The hub's consignment id.
    pub reference: String,
    /// The declarant's EORI number, e.g. `GB123456789000`.
    pub declarant: String,
    /// The importer's EORI number.
    pub importer: String,
    /// The exporter's EORI number; absent for many non-UK exporters.
    pub exporter: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub origin_country: String,
    /// ISO 3166-1 alpha-2.
    pub dispatch_country: String,
    /// The 4-digit customs procedure code, e.g. `4000`.
    pub procedure_code: String,
    /// e.g. `GB/A/U/DVRDOVDVR`.
    pub location_of_goods: String,
    /// UN/LOCODE, e.g. `GBDOV`.
    pub port_of_entry: String,
    /// e.g. `GBSEV1` (Sevington, serving Dover and Folkestone).
    pub border_control_post: Option<String>,
    /// RFC 3339, e.g. `2026-12-03T08:00:00Z` (another offset is converted to UTC).
    pub arrives_at: String,
    /// `ROAD`, `SEA`, `AIR` or `RAIL`.
    pub transport_mode: String,
    /// GVMS goods movement reference, e.g. `GMRA00002KW2`.
    pub goods_movement_reference: Option<String>,
    /// IPAFFS CHED reference, e.g. `CHEDA.GB.2026.1234567`.
    pub ched_reference: Option<String>,
    /// Authorisations and licences the trader holds, e.g. `AEO_CERTIFIED`.
    pub trader_flags: Vec<String>,
    pub items: Vec<ConsignmentItemInput>,
}

/// One line of goods.
#[derive(Debug, Clone, InputObject)]
pub struct ConsignmentItemInput {
    /// 1-based.
    pub line: i32,
    /// 8 or 10 digits.
    pub commodity_code: String,
    pub description: String,
    /// Units: head of animals, packages, pieces.
    pub quantity: i32,
    pub net_mass_kg: f64,
    pub gross_mass_kg: f64,
    pub value_gbp: f64,
}

/// How risky an agency finds a consignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Enum)]
pub enum RiskLevel {
    Low,
    Medium,
    High,
}

/// What an agency does to a consignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Enum)]
pub enum CheckKind {
    /// The documents, done remotely.
    Documentary,
    /// That the goods are those the documents describe.
    Identity,
    Physical,
    /// Samples taken for a laboratory.
    Sampling,
    /// Non-intrusive X-ray or gamma-ray imaging of the vehicle or container.
    Scan,
}

/// One agency's assessment of one consignment.
#[derive(Debug, Clone, PartialEq, SimpleObject)]
pub struct RiskAssessment {
    pub risk_level: RiskLevel,
    /// The BTOM sanitary and phytosanitary category, for SPS agencies (HIGH: checked every
    /// time; MEDIUM: checked at a rate of 1–30 %; LOW: no routine checks); null otherwise.
    pub btom_category: Option<RiskLevel>,
    pub reasons: Vec<String>,
    pub checks: Vec<RequestedCheck>,
}

/// A check an agency asks for, where and when it can do it.
#[derive(Debug, Clone, PartialEq, SimpleObject)]
pub struct RequestedCheck {
    pub kind: CheckKind,
    /// Item lines concerned (empty: the whole consignment).
    pub lines: Vec<i32>,
    /// Where this agency can do it: BCP codes or port UN/LOCODEs, best first. Empty for
    /// DOCUMENTARY (done remotely).
    pub locations: Vec<String>,
    /// RFC 3339 UTC window in which the agency can do it.
    pub earliest: String,
    /// The end of that window (RFC 3339 UTC).
    pub latest: String,
    pub duration_minutes: i32,
    pub reason: String,
}
