//! HMRC Customs: every consignment, for the duty and VAT due and the procedure declared.
//!
//! - A special procedure needing an authorisation the declaration does not carry as a trader
//!   flag ([`AUTHORISED_PROCEDURES`]: 51xx inward processing, 71xx customs warehousing):
//!   MEDIUM, a documentary check.
//! - Excise goods (alcohol 2203–2208, tobacco 24, fuels 2710): MEDIUM, a documentary check,
//!   and a physical check on 20 % of consignments (5 % for an `AEO_CERTIFIED` trader; every
//!   one for a trader with customs irregularities).
//! - A trader with customs irregularities: MEDIUM, a documentary check of the declaration.
//! - Goods declared far below their typical value per kg ([`VALUE_FLOORS`]): MEDIUM, a
//!   documentary check for undervaluation.
//! - Otherwise LOW, no checks.

use super::consignment::{Consignment, Item};
use super::findings::{describe_lines, Findings};
use super::places::inspection_posts_and_port;
use super::protocol::{CheckKind, RiskAssessment, RiskLevel};
use super::selection::selected_at_rate;
use super::trader_history::{poor_history, Concern};
use super::Agency;

/// Requested procedures (first two digits of the procedure code) that need an authorisation,
/// the procedure's name, and the trader flag that shows it.
pub const AUTHORISED_PROCEDURES: &[(&str, &str, &str)] = &[
    ("51", "inward processing", "INWARD_PROCESSING_AUTHORISATION"),
    (
        "71",
        "customs warehousing",
        "CUSTOMS_WAREHOUSE_AUTHORISATION",
    ),
];

/// The lowest plausible declared value per kg of net mass, by tariff chapter.
pub const VALUE_FLOORS: &[(u32, &str, f64)] = &[
    (24, "tobacco", 20.0),
    (61, "knitted clothing", 5.0),
    (62, "woven clothing", 5.0),
    (64, "footwear", 4.0),
    (71, "jewellery and precious metals", 50.0),
    (84, "machinery and computers", 2.0),
    (85, "electrical and electronic equipment", 2.0),
    (90, "optical and medical instruments", 5.0),
    (91, "watches and clocks", 20.0),
    (95, "toys and games", 1.5),
];

/// Share of excise consignments physically checked.
const EXCISE_RATE: u32 = 20;
const EXCISE_RATE_AEO: u32 = 5;
pub const AEO_CERTIFIED: &str = "AEO_CERTIFIED";

pub fn is_excise_good(item: &Item) -> bool {
    item.heading_in(2203, 2208) || item.chapter() == 24 || item.heading() == 2710
}

pub fn assess(consignment: &Consignment) -> RiskAssessment {
    let mut findings = Findings::new(consignment, inspection_posts_and_port);
    check_procedure(consignment, &mut findings);
    let history = poor_history(consignment, Concern::Customs);
    if let Some(history) = history {
        let reason = format!(
            "trader {} has customs irregularities on record: {}",
            history.eori, history.record
        );
        findings.raise(RiskLevel::Medium, reason.clone());
        findings.check(CheckKind::Documentary, &[], reason);
    }
    let excise = consignment.lines_where(is_excise_good);
    if !excise.is_empty() {
        let reason = format!(
            "excise goods on {}: duty to account for",
            describe_lines(&excise)
        );
        findings.raise(RiskLevel::Medium, reason.clone());
        findings.check(CheckKind::Documentary, &excise, reason);
        let rate = match history {
            Some(_) => 100,
            None if consignment.has_flag(AEO_CERTIFIED) => EXCISE_RATE_AEO,
            None => EXCISE_RATE,
        };
        if selected_at_rate(Agency::HmrcCustoms.name(), &consignment.reference, rate) {
            let reason = format!("excise goods selected for a physical check (rate {rate} %)");
            findings.note(reason.clone());
            findings.check(CheckKind::Physical, &excise, reason);
        } else {
            findings.note(format!(
                "excise goods not selected for a physical check this time (rate {rate} %)"
            ));
        }
    }
    check_values(consignment, &mut findings);
    if findings.is_clear() {
        findings.note("procedure, trader, goods and values raise no customs risk");
    }
    findings.finish()
}

fn check_procedure(consignment: &Consignment, findings: &mut Findings<'_>) {
    let code = &consignment.procedure_code;
    let needed = AUTHORISED_PROCEDURES
        .iter()
        .find(|(requested, _, _)| code.starts_with(requested));
    if let Some((_, procedure, flag)) = needed {
        if !consignment.has_flag(flag) {
            let reason = format!(
                "procedure {code} ({procedure}) needs an authorisation the declaration does not \
                 show ({flag})"
            );
            findings.raise(RiskLevel::Medium, reason.clone());
            findings.check(CheckKind::Documentary, &[], reason);
        }
    }
}

fn check_values(consignment: &Consignment, findings: &mut Findings<'_>) {
    let floor_for = |item: &Item| {
        let (_, goods, floor) = VALUE_FLOORS.iter().find(|(c, _, _)| *c == item.chapter())?;
        let value = item.value_per_kg()?;
        (value < *floor).then_some((*goods, value, *floor))
    };
    let undervalued = consignment.lines_where(|item| floor_for(item).is_some());
    // One reason for every line, quoting the first (a consignment may have 999).
    let first = consignment.items.iter().find_map(floor_for);
    if let Some((goods, value, floor)) = first {
        let reason = format!(
            "goods on {} declared below the plausible value per kg for their kind (e.g. {goods} \
             at £{value:.2}, under £{floor:.2}): possible undervaluation",
            describe_lines(&undervalued)
        );
        findings.raise(RiskLevel::Medium, reason.clone());
        findings.check(CheckKind::Documentary, &undervalued, reason);
    }
}
