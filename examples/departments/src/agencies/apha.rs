//! Animal and Plant Health Agency: live animals and products of animal origin, under the
//! Border Target Operating Model (BTOM).
//!
//! - Live animals (chapter 01): HIGH, BTOM high: documentary, identity and physical checks at
//!   the BCP on every consignment.
//! - Products of animal origin (chapters 02, 03, 16; headings 0401–0410, 0502–0511,
//!   1501–1506, 4101–4103): BTOM medium: a documentary check every time, identity and
//!   physical checks on a share of consignments (5 % of EU origin, 30 % of other origins;
//!   every one for a trader with a poor sanitary record, which also makes them HIGH).
//! - No CHED reference for goods in scope: HIGH, with a documentary check (IPAFFS
//!   pre-notification is missing).
//! - Goods of British origin: LOW, no checks.

use super::btom::{MediumRisk, OriginRates};
use super::consignment::{Consignment, Item};
use super::findings::{describe_lines, Findings};
use super::places::inspection_posts;
use super::protocol::{CheckKind, RiskAssessment, RiskLevel};
use super::Agency;

const ANIMAL_PRODUCTS: MediumRisk<'static> = MediumRisk {
    agency: Agency::Apha,
    goods: "products of animal origin",
    certificate: Some("health certificate"),
    on_site: &[CheckKind::Identity, CheckKind::Physical],
    rates: OriginRates { eu: 5, other: 30 },
};

pub fn is_live_animal(item: &Item) -> bool {
    item.chapter() == 1
}

/// Meat, fish, dairy, eggs, honey, animal by-products, fats, preparations and hides.
pub fn is_product_of_animal_origin(item: &Item) -> bool {
    matches!(item.chapter(), 2 | 3 | 16)
        || item.heading_in(401, 410)
        || item.heading_in(502, 511)
        || item.heading_in(1501, 1506)
        || item.heading_in(4101, 4103)
}

pub fn assess(consignment: &Consignment) -> RiskAssessment {
    let mut findings = Findings::new(consignment, inspection_posts);
    let animals = consignment.lines_where(is_live_animal);
    let products = consignment.lines_where(is_product_of_animal_origin);
    let in_scope = consignment.lines_where(|i| is_live_animal(i) || is_product_of_animal_origin(i));
    if in_scope.is_empty() {
        findings.note("no live animals or products of animal origin declared");
        return findings.finish();
    }
    if consignment.of_british_origin() {
        findings.categorise(RiskLevel::Low);
        findings.note("goods of British origin: no animal health import controls");
        return findings.finish();
    }
    if consignment.ched_reference.is_none() {
        let reason = "no CHED reference: live animals and products of animal origin must be \
                      pre-notified in IPAFFS (CHED-A for animals, CHED-P for products)";
        findings.raise(RiskLevel::High, reason);
        findings.check(CheckKind::Documentary, &in_scope, reason);
    }
    if !animals.is_empty() {
        let reason = format!(
            "live animals on {}: BTOM high risk, checked on every consignment",
            describe_lines(&animals)
        );
        findings.categorise(RiskLevel::High);
        findings.raise(RiskLevel::High, reason.clone());
        for kind in [
            CheckKind::Documentary,
            CheckKind::Identity,
            CheckKind::Physical,
        ] {
            findings.check(kind, &animals, reason.clone());
        }
    }
    if !products.is_empty() {
        ANIMAL_PRODUCTS.apply(consignment, &products, &mut findings);
    }
    findings.finish()
}
