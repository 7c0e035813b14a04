//! Food Standards Agency: high-risk food not of animal origin (HRFNAO), under the controls on
//! named foods from named countries (aflatoxins, pesticide residues, Salmonella).
//!
//! - A controlled food from a controlled origin ([`CONTROLS`]): HIGH, BTOM high: a
//!   documentary check and sampling for laboratory analysis on every consignment; without a
//!   CHED reference, the documentary check is for the missing IPAFFS pre-notification too.
//! - A controlled food from any other origin: MEDIUM, BTOM medium: a documentary check.
//! - A trader with a poor sanitary record: every controlled food is sampled, whatever its
//!   origin (HIGH).
//! - Anything else, and goods of British origin: LOW, no checks.

use super::consignment::{Consignment, Item};
use super::findings::{describe_lines, Findings};
use super::places::inspection_posts;
use super::protocol::{CheckKind, RiskAssessment, RiskLevel};
use super::trader_history::{poor_history, Concern, PoorHistory};

/// A food under controls: commodity code prefix, the origins controlled, and the hazard.
pub struct Control {
    pub prefix: &'static str,
    pub food: &'static str,
    pub origins: &'static [&'static str],
    pub hazard: &'static str,
}

pub const CONTROLS: &[Control] = &[
    Control {
        prefix: "1202",
        food: "groundnuts",
        origins: &["CN", "EG", "IN", "TR", "US"],
        hazard: "aflatoxins",
    },
    Control {
        prefix: "200811",
        food: "prepared groundnuts and peanut butter",
        origins: &["CN", "EG", "IN", "US"],
        hazard: "aflatoxins",
    },
    Control {
        prefix: "08021",
        food: "almonds",
        origins: &["US"],
        hazard: "aflatoxins",
    },
    Control {
        prefix: "08022",
        food: "hazelnuts",
        origins: &["AZ", "GE", "TR"],
        hazard: "aflatoxins",
    },
    Control {
        prefix: "08025",
        food: "pistachios",
        origins: &["IR", "TR", "US"],
        hazard: "aflatoxins",
    },
    Control {
        prefix: "0802",
        food: "nuts",
        origins: &["CN"],
        hazard: "aflatoxins",
    },
    Control {
        prefix: "200819",
        food: "prepared nuts",
        origins: &["IR", "TR"],
        hazard: "aflatoxins",
    },
    Control {
        prefix: "070960",
        food: "fresh peppers",
        origins: &["EG", "TR"],
        hazard: "pesticide residues",
    },
    Control {
        prefix: "0904",
        food: "dried chillies and peppers",
        origins: &["CN", "IN", "LK", "PK"],
        hazard: "aflatoxins and Salmonella",
    },
    Control {
        prefix: "0910",
        food: "ginger, turmeric and curry spices",
        origins: &["IN"],
        hazard: "aflatoxins and pesticide residues",
    },
];

/// The item lines FSA samples for one reason.
pub struct Sample {
    pub lines: Vec<i32>,
    /// The food comes from a controlled origin (so it needs a CHED-D), rather than being
    /// sampled for the trader's record.
    pub controlled_origin: bool,
    pub reason: String,
}

/// What FSA samples of `consignment` for laboratory analysis, grouped by reason (Port Health
/// takes the same samples at the BCP).
pub fn laboratory_samples(consignment: &Consignment) -> Vec<Sample> {
    if consignment.of_british_origin() {
        return Vec::new();
    }
    let history = poor_history(consignment, Concern::SanitaryAndPhytosanitary);
    let mut samples: Vec<Sample> = Vec::new();
    for item in &consignment.items {
        let Some((controlled_origin, reason)) =
            why_sampled(item, &consignment.origin_country, history)
        else {
            continue;
        };
        match samples.iter_mut().find(|sample| sample.reason == reason) {
            Some(sample) => sample.lines.push(item.line),
            None => samples.push(Sample {
                lines: vec![item.line],
                controlled_origin,
                reason,
            }),
        }
    }
    samples
}

/// Whether `item` is sampled, as a controlled food from a controlled origin (`true`) or from
/// a trader with a poor record (`false`), and why.
fn why_sampled(item: &Item, origin: &str, history: Option<&PoorHistory>) -> Option<(bool, String)> {
    let mut controls = CONTROLS
        .iter()
        .filter(|c| item.is_under(c.prefix))
        .peekable();
    let first = *controls.peek()?;
    if let Some(control) = controls.find(|c| c.origins.contains(&origin)) {
        let reason = format!(
            "{} from {origin}: sampled for {} on every consignment",
            control.food, control.hazard
        );
        return Some((true, reason));
    }
    let history = history?;
    let reason = format!(
        "{} from trader {} with a poor sanitary record ({}): sampled for {}",
        first.food, history.eori, history.record, first.hazard
    );
    Some((false, reason))
}

pub fn assess(consignment: &Consignment) -> RiskAssessment {
    let mut findings = Findings::new(consignment, inspection_posts);
    let controlled = consignment.lines_where(|i| CONTROLS.iter().any(|c| i.is_under(c.prefix)));
    if controlled.is_empty() {
        findings.note("no high-risk food not of animal origin declared");
        return findings.finish();
    }
    if consignment.of_british_origin() {
        findings.categorise(RiskLevel::Low);
        findings.note("goods of British origin: no import controls on food");
        return findings.finish();
    }
    let samples = laboratory_samples(consignment);
    let listed: Vec<i32> = samples
        .iter()
        .filter(|sample| sample.controlled_origin)
        .flat_map(|sample| sample.lines.iter().copied())
        .collect();
    if !listed.is_empty() && consignment.ched_reference.is_none() {
        let reason = "no CHED reference: high-risk food not of animal origin must be \
                      pre-notified in IPAFFS (CHED-D)";
        findings.raise(RiskLevel::High, reason);
        findings.check(CheckKind::Documentary, &listed, reason);
    }
    for sample in &samples {
        findings.categorise(RiskLevel::High);
        findings.raise(RiskLevel::High, sample.reason.clone());
        findings.check(CheckKind::Documentary, &sample.lines, sample.reason.clone());
        findings.check(CheckKind::Sampling, &sample.lines, sample.reason.clone());
    }
    let unsampled: Vec<i32> = controlled
        .into_iter()
        .filter(|line| samples.iter().all(|sample| !sample.lines.contains(line)))
        .collect();
    if !unsampled.is_empty() {
        let reason = format!(
            "high-risk food not of animal origin on {} from an origin without sampling \
             controls: the documents are checked",
            describe_lines(&unsampled)
        );
        findings.categorise(RiskLevel::Medium);
        findings.raise(RiskLevel::Medium, reason.clone());
        findings.check(CheckKind::Documentary, &unsampled, reason);
    }
    findings.finish()
}
