//! Port Health Authority: the checks at the Border Control Post on live animals, products of
//! animal origin and high-risk food not of animal origin, for public health and welfare.
//!
//! - Live animals (chapter 01): HIGH, BTOM high: a documentary check and a physical
//!   (welfare and public health) check on every consignment.
//! - Products of animal origin (chapters 02, 03, 04, 16): MEDIUM, BTOM medium: a physical
//!   check on a share of consignments (5 % of EU origin, 30 % of other origins; every one
//!   for a trader with a poor sanitary record, which also makes them HIGH).
//! - High-risk food not of animal origin: sampled exactly when the Food Standards Agency
//!   samples it (see [`super::fsa::laboratory_samples`]): HIGH, BTOM high.
//! - Anything else, and goods of British origin: LOW, no checks.

use super::btom::{MediumRisk, OriginRates};
use super::consignment::{Consignment, Item};
use super::findings::{describe_lines, Findings};
use super::fsa::{laboratory_samples, CONTROLS};
use super::places::inspection_posts;
use super::protocol::{CheckKind, RiskAssessment, RiskLevel};
use super::Agency;

const ANIMAL_PRODUCTS: MediumRisk<'static> = MediumRisk {
    agency: Agency::PortHealth,
    goods: "products of animal origin",
    certificate: None,
    on_site: &[CheckKind::Physical],
    rates: OriginRates { eu: 5, other: 30 },
};

fn is_product_of_animal_origin(item: &Item) -> bool {
    matches!(item.chapter(), 2 | 3 | 4 | 16)
}

/// Everything the authority assesses: animals, their products, and the foods under FSA
/// controls (the hub asks it for 0802, 0904 and 1202, the ones its BCPs see most).
fn in_scope(item: &Item) -> bool {
    matches!(item.chapter(), 1 | 2 | 3 | 4 | 16) || CONTROLS.iter().any(|c| item.is_under(c.prefix))
}

pub fn assess(consignment: &Consignment) -> RiskAssessment {
    let mut findings = Findings::new(consignment, inspection_posts);
    if consignment.lines_where(in_scope).is_empty() {
        findings.note("no live animals, products of animal origin or high-risk food declared");
        return findings.finish();
    }
    if consignment.of_british_origin() {
        findings.categorise(RiskLevel::Low);
        findings.note("goods of British origin: no port health import checks");
        return findings.finish();
    }
    let animals = consignment.lines_where(|item| item.chapter() == 1);
    if !animals.is_empty() {
        let reason = format!(
            "live animals on {}: welfare and public health checked at the BCP on every \
             consignment",
            describe_lines(&animals)
        );
        findings.categorise(RiskLevel::High);
        findings.raise(RiskLevel::High, reason.clone());
        findings.check(CheckKind::Documentary, &animals, reason.clone());
        findings.check(CheckKind::Physical, &animals, reason);
    }
    let products = consignment.lines_where(is_product_of_animal_origin);
    if !products.is_empty() {
        ANIMAL_PRODUCTS.apply(consignment, &products, &mut findings);
    }
    for sample in laboratory_samples(consignment) {
        let reason = format!(
            "sampled at the BCP for the Food Standards Agency: {}",
            sample.reason
        );
        findings.categorise(RiskLevel::High);
        findings.raise(RiskLevel::High, reason.clone());
        findings.check(CheckKind::Sampling, &sample.lines, reason);
    }
    if findings.is_clear() {
        findings.note("high-risk food from an origin without sampling controls: no checks here");
    }
    findings.finish()
}
