//! What an agency's rules build while reading a consignment: its risk level, BTOM category,
//! reasons and the checks it asks for, each with the places and time window it can do it in.
//!
//! Windows: on-site checks start when the goods can reach the BCP (arrival + 30 min) and end
//! when the most perishable goods concerned must be released (live animals 4 h, fresh plants,
//! fruit and vegetables 12 h, anything else 24 h after arrival). Documentary checks are done
//! remotely, from the pre-notification (arrival − 24 h) to the same end.

use super::consignment::{Consignment, Item};
use super::protocol::{CheckKind, RequestedCheck, RiskAssessment, RiskLevel};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

/// From arrival at the port until the goods can be at the BCP.
const TO_THE_POST: TimeDelta = TimeDelta::minutes(30);
/// How long before arrival pre-notified documents can be checked.
const PRE_NOTIFICATION: TimeDelta = TimeDelta::hours(24);

/// Where an agency does its on-site checks, best first.
pub type Places = fn(&Consignment) -> Vec<String>;

/// An assessment under construction. Starts LOW, with no BTOM category and no checks.
pub struct Findings<'a> {
    consignment: &'a Consignment,
    places: Places,
    risk_level: RiskLevel,
    btom_category: Option<RiskLevel>,
    reasons: Vec<String>,
    checks: Vec<RequestedCheck>,
}

impl<'a> Findings<'a> {
    /// Findings on `consignment` by an agency doing its on-site checks at `places`.
    pub fn new(consignment: &'a Consignment, places: Places) -> Self {
        Findings {
            consignment,
            places,
            risk_level: RiskLevel::Low,
            btom_category: None,
            reasons: Vec::new(),
            checks: Vec::new(),
        }
    }

    /// Raise the risk level to at least `level`, saying why.
    pub fn raise(&mut self, level: RiskLevel, reason: impl Into<String>) {
        self.risk_level = self.risk_level.max(level);
        self.note(reason);
    }

    /// Record a reason without changing the risk level.
    pub fn note(&mut self, reason: impl Into<String>) {
        let reason = reason.into();
        if !self.reasons.contains(&reason) {
            self.reasons.push(reason);
        }
    }

    /// Whether nothing has been found yet (no reason recorded).
    pub fn is_clear(&self) -> bool {
        self.reasons.is_empty()
    }

    /// Put the consignment in at least BTOM category `category`.
    pub fn categorise(&mut self, category: RiskLevel) {
        self.btom_category = Some(self.btom_category.map_or(category, |c| c.max(category)));
    }

    /// Ask for a `kind` check of the items on `lines` (empty: the whole consignment). A second
    /// request of the same kind joins the first: one check covering both, for both reasons.
    pub fn check(&mut self, kind: CheckKind, lines: &[i32], reason: impl Into<String>) {
        let mut reason = reason.into();
        let mut lines = lines.to_vec();
        if let Some(index) = self.checks.iter().position(|c| c.kind == kind) {
            let existing = self.checks.remove(index);
            lines = if existing.lines.is_empty() || lines.is_empty() {
                Vec::new()
            } else {
                [existing.lines, lines].concat()
            };
            reason = if existing.reason.contains(&reason) {
                existing.reason
            } else {
                format!("{}; {reason}", existing.reason)
            };
        }
        let requested = self.requested(kind, lines, reason);
        self.checks.push(requested);
    }

    /// The assessment, checks in a stable order (by kind).
    pub fn finish(mut self) -> RiskAssessment {
        self.checks.sort_by_key(|check| check.kind);
        RiskAssessment {
            risk_level: self.risk_level,
            btom_category: self.btom_category,
            reasons: self.reasons,
            checks: self.checks,
        }
    }

    fn requested(&self, kind: CheckKind, mut lines: Vec<i32>, reason: String) -> RequestedCheck {
        lines.sort_unstable();
        lines.dedup();
        let arrives_at = self.consignment.arrives_at;
        let latest = arrives_at + self.release_within(&lines);
        let (earliest, locations) = match kind {
            CheckKind::Documentary => (arrives_at - PRE_NOTIFICATION, Vec::new()),
            _ => (arrives_at + TO_THE_POST, (self.places)(self.consignment)),
        };
        RequestedCheck {
            kind,
            lines,
            locations,
            earliest: timestamp(earliest),
            latest: timestamp(latest),
            duration_minutes: minutes_for(kind),
            reason,
        }
    }

    /// How long after arrival the goods on `lines` must be released.
    fn release_within(&self, lines: &[i32]) -> TimeDelta {
        self.consignment
            .items_on(lines)
            .map(shelf_life)
            .min()
            .unwrap_or(TimeDelta::hours(24))
    }
}

/// How long after arrival goods may wait for their checks.
fn shelf_life(item: &Item) -> TimeDelta {
    let fresh_produce =
        item.chapter() == 6 || item.heading_in(701, 709) || item.heading_in(803, 810);
    if item.chapter() == 1 {
        TimeDelta::hours(4)
    } else if fresh_produce {
        TimeDelta::hours(12)
    } else {
        TimeDelta::hours(24)
    }
}

/// How long an officer needs for one check of a kind.
fn minutes_for(kind: CheckKind) -> i32 {
    match kind {
        CheckKind::Documentary | CheckKind::Identity => 15,
        CheckKind::Physical => 45,
        CheckKind::Sampling => 30,
        CheckKind::Scan => 20,
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Most line numbers a reason lists (a consignment may have 999).
const LINES_NAMED: usize = 10;

/// `lines` as text for a reason: `line 3`, `lines 1, 2`, or the first ten `and 40 more`.
pub fn describe_lines(lines: &[i32]) -> String {
    let named: Vec<String> = lines.iter().take(LINES_NAMED).map(i32::to_string).collect();
    let more = lines.len().saturating_sub(LINES_NAMED);
    match (named.as_slice(), more) {
        ([one], _) => format!("line {one}"),
        (_, 0) => format!("lines {}", named.join(", ")),
        _ => format!("lines {} and {more} more", named.join(", ")),
    }
}
