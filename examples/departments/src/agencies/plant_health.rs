//! Plant Health and Seeds Inspectorate: plants, plant products and seeds, under the BTOM.
//!
//! - Plants for planting (headings 0601, 0602): HIGH, BTOM high: documentary, identity,
//!   physical checks and sampling for regulated pests on every consignment.
//! - Cut flowers and foliage (0603, 0604), regulated fresh fruit and vegetables (tomatoes,
//!   cucumbers, peppers and other 0709 vegetables, citrus, grapes, apples and pears, stone
//!   fruit, berries), seeds for sowing (1209) and wood (4401–4403): MEDIUM, BTOM medium: the
//!   phytosanitary certificate every time, identity and physical checks on a share of
//!   consignments (10 % of EU origin, 30 % of other origins; every one for a trader with a
//!   poor phytosanitary record, which also makes them HIGH).
//! - No CHED reference for regulated goods: HIGH, with a documentary check (IPAFFS
//!   pre-notification of a CHED-PP is missing).
//! - Other plant products and goods of British origin: LOW, no checks.

use super::btom::{MediumRisk, OriginRates};
use super::consignment::{Consignment, Item};
use super::findings::{describe_lines, Findings};
use super::places::inspection_posts;
use super::protocol::{CheckKind, RiskAssessment, RiskLevel};
use super::Agency;

const PLANT_PRODUCTS: MediumRisk<'static> = MediumRisk {
    agency: Agency::PlantHealth,
    goods: "regulated plant products",
    certificate: Some("phytosanitary certificate"),
    on_site: &[CheckKind::Identity, CheckKind::Physical],
    rates: OriginRates { eu: 10, other: 30 },
};

/// Fruit and vegetable headings that carry regulated pests.
const REGULATED_PRODUCE: &[u32] = &[702, 707, 709, 805, 806, 808, 809, 810];

pub fn is_plant_for_planting(item: &Item) -> bool {
    item.heading_in(601, 602)
}

/// Medium-risk plant products.
pub fn is_regulated_plant_product(item: &Item) -> bool {
    item.heading_in(603, 604)
        || REGULATED_PRODUCE.contains(&item.heading())
        || item.heading() == 1209
        || item.heading_in(4401, 4403)
}

/// Everything the inspectorate assesses (as the hub's scope for it).
fn is_plant_or_plant_product(item: &Item) -> bool {
    matches!(item.chapter(), 6 | 7 | 8 | 10) || is_regulated_plant_product(item)
}

pub fn assess(consignment: &Consignment) -> RiskAssessment {
    let mut findings = Findings::new(consignment, inspection_posts);
    if consignment
        .lines_where(is_plant_or_plant_product)
        .is_empty()
    {
        findings.note("no plants or plant products declared");
        return findings.finish();
    }
    if consignment.of_british_origin() {
        findings.categorise(RiskLevel::Low);
        findings.note("goods of British origin: no plant health import controls");
        return findings.finish();
    }
    let plants = consignment.lines_where(is_plant_for_planting);
    let products = consignment.lines_where(is_regulated_plant_product);
    let regulated =
        consignment.lines_where(|i| is_plant_for_planting(i) || is_regulated_plant_product(i));
    if regulated.is_empty() {
        findings.categorise(RiskLevel::Low);
        findings.note("plant products of low risk: no routine checks");
        return findings.finish();
    }
    if consignment.ched_reference.is_none() {
        let reason = "no CHED reference: regulated plants and plant products must be \
                      pre-notified in IPAFFS (CHED-PP)";
        findings.raise(RiskLevel::High, reason);
        findings.check(CheckKind::Documentary, &regulated, reason);
    }
    if !plants.is_empty() {
        let reason = format!(
            "plants for planting on {}: BTOM high risk, checked and sampled for regulated pests \
             on every consignment",
            describe_lines(&plants)
        );
        findings.categorise(RiskLevel::High);
        findings.raise(RiskLevel::High, reason.clone());
        for kind in [
            CheckKind::Documentary,
            CheckKind::Identity,
            CheckKind::Physical,
            CheckKind::Sampling,
        ] {
            findings.check(kind, &plants, reason.clone());
        }
    }
    if !products.is_empty() {
        PLANT_PRODUCTS.apply(consignment, &products, &mut findings);
    }
    findings.finish()
}
