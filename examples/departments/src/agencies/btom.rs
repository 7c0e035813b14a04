//! The BTOM medium-risk treatment the SPS agencies share: a documentary check of the
//! certificate on every consignment, and on-site checks on a share of them, drawn per agency
//! and consignment. A trader with a poor sanitary or phytosanitary record has every
//! consignment checked, which also makes it HIGH.

use super::consignment::Consignment;
use super::findings::{describe_lines, Findings};
use super::protocol::{CheckKind, RiskLevel};
use super::selection::selected_at_rate;
use super::trader_history::{poor_history, Concern};
use super::Agency;

/// Percentages of consignments checked on site, by origin.
#[derive(Debug, Clone, Copy)]
pub struct OriginRates {
    pub eu: u32,
    pub other: u32,
}

/// How one agency treats one class of medium-risk goods.
pub struct MediumRisk<'a> {
    pub agency: Agency,
    /// What the goods are, e.g. `products of animal origin`.
    pub goods: &'a str,
    /// The certificate checked on every consignment; `None`: no documentary check.
    pub certificate: Option<&'a str>,
    /// The checks done on the consignments selected.
    pub on_site: &'a [CheckKind],
    pub rates: OriginRates,
}

impl MediumRisk<'_> {
    /// Add the treatment of the goods on `lines` of `consignment` to `findings`.
    pub fn apply(&self, consignment: &Consignment, lines: &[i32], findings: &mut Findings<'_>) {
        let goods = self.goods;
        findings.categorise(RiskLevel::Medium);
        findings.raise(
            RiskLevel::Medium,
            format!("{goods} on {}: BTOM medium risk", describe_lines(lines)),
        );
        if let Some(certificate) = self.certificate {
            findings.check(
                CheckKind::Documentary,
                lines,
                format!("{goods}: the {certificate} is checked on every consignment"),
            );
        }
        let rate = match poor_history(consignment, Concern::SanitaryAndPhytosanitary) {
            Some(history) => {
                findings.raise(
                    RiskLevel::High,
                    format!(
                        "trader {} has a poor sanitary and phytosanitary record ({}): every \
                         consignment is checked",
                        history.eori, history.record
                    ),
                );
                100
            }
            None if consignment.of_eu_origin() => self.rates.eu,
            None => self.rates.other,
        };
        let origin = &consignment.origin_country;
        if selected_at_rate(self.agency.name(), &consignment.reference, rate) {
            let reason =
                format!("{goods} selected for on-site checks (rate {rate} % for origin {origin})");
            findings.note(reason.clone());
            for &kind in self.on_site {
                findings.check(kind, lines, reason.clone());
            }
        } else {
            findings.note(format!(
                "{goods} not selected for on-site checks this time (rate {rate} % for origin \
                 {origin})"
            ));
        }
    }
}
