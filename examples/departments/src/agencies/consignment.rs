//! A consignment as the agencies' rules read it (parsed once from the hub's input, see
//! [`super::validation`]), with the questions every agency asks of it.

use chrono::{DateTime, Utc};

/// The origin of goods exempt from import controls.
pub const GREAT_BRITAIN: &str = "GB";

/// The European Union's member states, whose goods several agencies check at a lower rate.
const EU_MEMBERS: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// One line of goods.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub line: i32,
    /// 8 or 10 digits.
    pub commodity_code: String,
    pub net_mass_kg: f64,
    pub value_gbp: f64,
}

impl Item {
    /// The tariff chapter, e.g. 1 for `0102291000`.
    pub fn chapter(&self) -> u32 {
        self.leading_digits(2)
    }

    /// The 4-digit heading, e.g. 102 for `0102291000`.
    pub fn heading(&self) -> u32 {
        self.leading_digits(4)
    }

    /// Whether the commodity code starts with `prefix` (a chapter, heading or subheading).
    pub fn is_under(&self, prefix: &str) -> bool {
        self.commodity_code.starts_with(prefix)
    }

    /// Whether the heading is one of `first..=last`, e.g. `0401..=0410` as `401, 410`.
    pub fn heading_in(&self, first: u32, last: u32) -> bool {
        (first..=last).contains(&self.heading())
    }

    /// Declared value per kilogram of net mass; `None` when there is no mass to divide by.
    pub fn value_per_kg(&self) -> Option<f64> {
        (self.net_mass_kg > 0.0).then(|| self.value_gbp / self.net_mass_kg)
    }

    fn leading_digits(&self, count: usize) -> u32 {
        // Validation guarantees at least 8 ASCII digits.
        self.commodity_code
            .get(..count)
            .and_then(|digits| digits.parse().ok())
            .unwrap_or(0)
    }
}

/// A consignment the hub asks an agency about.
#[derive(Debug, Clone, PartialEq)]
pub struct Consignment {
    pub reference: String,
    pub declarant: String,
    pub importer: String,
    pub exporter: Option<String>,
    pub origin_country: String,
    pub dispatch_country: String,
    pub procedure_code: String,
    pub port_of_entry: String,
    pub border_control_post: Option<String>,
    pub arrives_at: DateTime<Utc>,
    pub ched_reference: Option<String>,
    pub trader_flags: Vec<String>,
    pub items: Vec<Item>,
}

impl Consignment {
    /// Whether the trader declared `flag` (e.g. `AEO_CERTIFIED`).
    pub fn has_flag(&self, flag: &str) -> bool {
        self.trader_flags.iter().any(|f| f == flag)
    }

    /// Goods originating in Great Britain: not imports for the SPS agencies.
    pub fn of_british_origin(&self) -> bool {
        self.origin_country == GREAT_BRITAIN
    }

    pub fn of_eu_origin(&self) -> bool {
        EU_MEMBERS.contains(&self.origin_country.as_str())
    }

    /// The lines of the items `matches` picks, in order.
    pub fn lines_where(&self, matches: impl Fn(&Item) -> bool) -> Vec<i32> {
        self.items
            .iter()
            .filter(|item| matches(item))
            .map(|item| item.line)
            .collect()
    }

    /// The items on `lines` (every item when `lines` is empty: the whole consignment).
    pub fn items_on<'a>(&'a self, lines: &'a [i32]) -> impl Iterator<Item = &'a Item> + 'a {
        self.items
            .iter()
            .filter(move |item| lines.is_empty() || lines.contains(&item.line))
    }

    /// The traders named on the declaration: declarant, importer and exporter.
    pub fn traders(&self) -> impl Iterator<Item = &str> {
        [
            Some(&self.declarant),
            Some(&self.importer),
            self.exporter.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
    }
}
