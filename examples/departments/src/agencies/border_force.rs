//! Border Force (the agency): every consignment, for smuggling, prohibited goods and
//! misdeclaration. Its officers work at the BCP and at the port itself.
//!
//! - Origin or dispatch country on the list of high-risk routes for drug smuggling
//!   ([`SMUGGLING_ROUTES`]): HIGH, a scan of the vehicle or container.
//! - A trader with past seizures: HIGH, a physical examination.
//! - Manufactured goods (chapters 84–95) declared at under £0.50 per kg: MEDIUM, a
//!   documentary check for undervaluation.
//! - Live animals (chapter 01): HIGH, identity and physical checks at the BCP for illegal
//!   movements and welfare in transport (with APHA and Port Health there, one joint
//!   inspection).
//! - Otherwise LOW, no checks.

use super::consignment::Consignment;
use super::findings::{describe_lines, Findings};
use super::places::inspection_posts_and_port;
use super::protocol::{CheckKind, RiskAssessment, RiskLevel};
use super::trader_history::{poor_history, Concern};

/// Countries on the main cocaine and heroin routes into the UK, and what is smuggled.
pub const SMUGGLING_ROUTES: &[(&str, &str)] = &[
    ("AF", "heroin"),
    ("CO", "cocaine"),
    ("EC", "cocaine concealed in fruit shipments"),
];

/// Below this declared value per kg, manufactured goods are probably undervalued.
const MANUFACTURED_GOODS_FLOOR_GBP_PER_KG: f64 = 0.50;

pub fn assess(consignment: &Consignment) -> RiskAssessment {
    let mut findings = Findings::new(consignment, inspection_posts_and_port);
    let route = [&consignment.origin_country, &consignment.dispatch_country]
        .into_iter()
        .find_map(|country| SMUGGLING_ROUTES.iter().find(|(c, _)| c == country));
    if let Some((country, drug)) = route {
        let reason = format!("{country} is a high-risk route for smuggling {drug}");
        findings.raise(RiskLevel::High, reason.clone());
        findings.check(CheckKind::Scan, &[], reason);
    }
    if let Some(history) = poor_history(consignment, Concern::Seizures) {
        let reason = format!(
            "trader {} has past seizures: {}",
            history.eori, history.record
        );
        findings.raise(RiskLevel::High, reason.clone());
        findings.check(CheckKind::Physical, &[], reason);
    }
    let undervalued = consignment.lines_where(|item| {
        (84..=95).contains(&item.chapter())
            && item
                .value_per_kg()
                .is_some_and(|value| value < MANUFACTURED_GOODS_FLOOR_GBP_PER_KG)
    });
    if !undervalued.is_empty() {
        let reason = format!(
            "manufactured goods on {} declared at under £{MANUFACTURED_GOODS_FLOOR_GBP_PER_KG:.2} \
             per kg: possible undervaluation",
            describe_lines(&undervalued)
        );
        findings.raise(RiskLevel::Medium, reason.clone());
        findings.check(CheckKind::Documentary, &undervalued, reason);
    }
    let animals = consignment.lines_where(|item| item.chapter() == 1);
    if !animals.is_empty() {
        let reason = format!(
            "live animals on {}: checked for illegal movements and welfare in transport",
            describe_lines(&animals)
        );
        findings.raise(RiskLevel::High, reason.clone());
        findings.check(CheckKind::Identity, &animals, reason.clone());
        findings.check(CheckKind::Physical, &animals, reason);
    }
    if findings.is_clear() {
        findings.note("no smuggling, seizure, valuation or live animal risk found");
    }
    findings.finish()
}
