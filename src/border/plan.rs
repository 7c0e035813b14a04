//! Merging the agencies' assessments into one intervention plan: the
//! on-site checks (identity, physical, sampling) of every agency that can
//! meet at one place become one joint inspection there, in one time slot,
//! led by the agency with the highest risk (then the lowest lead rank);
//! scans and documentary checks are likewise combined. The plan counts what
//! was asked for and what was scheduled, and, once every agency with checks
//! has recorded its outcome, carries the release decision.

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, Duration, Timelike, Utc};
use serde::{Deserialize, Serialize};

use super::agencies::AgencyRegistry;
use super::places::Places;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Enum, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckKind {
    Documentary,
    Identity,
    Physical,
    Sampling,
    Scan,
}

impl CheckKind {
    /// Checks done with the goods in front of an officer.
    fn on_site(self) -> bool {
        matches!(
            self,
            CheckKind::Identity | CheckKind::Physical | CheckKind::Sampling
        )
    }
}

/// A check an agency asks for, where and when it can do it.
#[derive(Debug, Clone, PartialEq, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedCheck {
    pub kind: CheckKind,
    /// Item lines concerned (empty: the whole consignment).
    pub lines: Vec<i32>,
    /// Where the agency can do it, best first (empty for documentary checks).
    pub locations: Vec<String>,
    pub earliest: DateTime<Utc>,
    pub latest: DateTime<Utc>,
    pub duration_minutes: i32,
    pub reason: String,
}

/// One agency's answer to `assessRisk`.
#[derive(Debug, Clone, PartialEq, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskAssessment {
    pub risk_level: RiskLevel,
    /// The BTOM sanitary and phytosanitary category, for SPS agencies.
    pub btom_category: Option<RiskLevel>,
    pub reasons: Vec<String>,
    pub checks: Vec<RequestedCheck>,
}

/// Where an agency's part of the plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssessmentStatus {
    /// Asked, not yet answered (retried until it is).
    Pending,
    Answered,
    /// In scope, but the agency has no subgraph the hub can ask.
    NotConnected,
}

/// What an agency found at its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutcomeResult {
    /// Nothing wrong: the agency is content for the goods to go.
    Satisfactory,
    /// The goods stay until a further step (e.g. laboratory results).
    Hold,
    /// The goods may not enter.
    RefuseEntry,
}

/// An agency's recorded outcome.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedOutcome {
    pub result: OutcomeResult,
    pub notes: String,
    pub recorded_at: DateTime<Utc>,
    /// The ledger entry recording it.
    pub ledger_seq: i64,
}

/// One agency's part in a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgencyPart {
    pub agency: String,
    pub status: AssessmentStatus,
    pub assessment: Option<RiskAssessment>,
    pub outcome: Option<RecordedOutcome>,
    /// The last failure to ask it, while pending.
    pub last_error: Option<String>,
}

impl AgencyPart {
    fn checks(&self) -> &[RequestedCheck] {
        self.assessment
            .as_ref()
            .map(|a| a.checks.as_slice())
            .unwrap_or(&[])
    }
}

/// How a plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlanStatus {
    /// Some agency has not answered: the plan may change when it does.
    Provisional,
    /// Every connected agency answered; the checks await their outcomes.
    Planned,
    /// The release decision is made.
    Decided,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Provisional => super::tables::consignment_status::PROVISIONAL,
            PlanStatus::Planned => super::tables::consignment_status::PLANNED,
            PlanStatus::Decided => super::tables::consignment_status::DECIDED,
        }
    }
}

/// One scheduled intervention serving one or more agencies.
#[derive(Debug, Clone, PartialEq, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Intervention {
    /// `PHYSICAL` for a joint inspection (identity and sampling are done at it too).
    pub kind: CheckKind,
    /// The checks it covers.
    pub covers: Vec<CheckKind>,
    /// The agencies it serves.
    pub agencies: Vec<String>,
    /// Where (a post or port code); none for documentary checks.
    pub location: Option<String>,
    pub location_name: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The agencies' requests it answers, in their words.
    pub reasons: Vec<String>,
}

/// The release decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Release {
    Released,
    Held,
    RefusedEntry,
}

#[derive(Debug, Clone, PartialEq, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseDecision {
    pub decision: Release,
    pub reasons: Vec<String>,
    pub decided_at: DateTime<Utc>,
}

/// What the plan saves: the checks asked for against what was scheduled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanSaving {
    /// Every check every agency asked for.
    pub checks_requested: i64,
    /// On-site checks (identity, physical, sampling, scan) asked for, agency by agency.
    pub inspections_requested: i64,
    /// On-site interventions actually scheduled.
    pub inspections_scheduled: i64,
    pub inspections_avoided: i64,
    /// Every intervention scheduled (documentary ones too).
    pub interventions_scheduled: i64,
}

/// The plan as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub status: PlanStatus,
    pub lead_agency: Option<String>,
    pub interventions: Vec<Intervention>,
    pub parts: Vec<AgencyPart>,
    pub reasons: Vec<String>,
    pub saving: PlanSaving,
    pub decision: Option<ReleaseDecision>,
    /// The ledger entry recording this revision.
    #[serde(default)]
    pub ledger_seq: Option<i64>,
}

/// A check with the agency that asked for it.
struct Asked<'a> {
    agency: &'a str,
    risk: RiskLevel,
    rank: i64,
    check: &'a RequestedCheck,
}

/// Builds the plan from every agency's part. `preferred` is the declared
/// Border Control Post, chosen when every agency can work there.
pub fn merge(
    parts: Vec<AgencyPart>,
    preferred: Option<&str>,
    registry: &AgencyRegistry,
    places: &Places,
    now: DateTime<Utc>,
) -> Plan {
    let rank = |agency: &str| {
        registry
            .get(agency)
            .map(|a| a.lead_rank)
            .unwrap_or(i64::MAX)
    };
    let name = |agency: &str| {
        registry
            .get(agency)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| agency.to_owned())
    };
    let asked: Vec<Asked> = parts
        .iter()
        .filter_map(|p| p.assessment.as_ref().map(|a| (p, a)))
        .flat_map(|(p, a)| {
            a.checks.iter().map(move |check| Asked {
                agency: &p.agency,
                risk: a.risk_level,
                rank: rank(&p.agency),
                check,
            })
        })
        .collect();
    let mut interventions = Vec::new();
    let mut reasons = Vec::new();
    let documentary: Vec<&Asked> = asked
        .iter()
        .filter(|a| a.check.kind == CheckKind::Documentary)
        .collect();
    if !documentary.is_empty() {
        interventions.push(intervention(
            CheckKind::Documentary,
            &documentary,
            None,
            places,
            now,
        ));
    }
    let mut inspections = Vec::new();
    for (kind, filter) in [
        (
            CheckKind::Physical,
            CheckKind::on_site as fn(CheckKind) -> bool,
        ),
        (CheckKind::Scan, |k| k == CheckKind::Scan),
    ] {
        let mut left: Vec<&Asked> = asked.iter().filter(|a| filter(a.check.kind)).collect();
        while !left.is_empty() {
            let place = meeting_place(&left, preferred);
            let (here, elsewhere): (Vec<&Asked>, Vec<&Asked>) = left
                .into_iter()
                .partition(|a| place.as_ref().is_none_or(|p| a.check.locations.contains(p)));
            let kind = if kind == CheckKind::Physical
                && here.iter().all(|a| a.check.kind != CheckKind::Physical)
            {
                here.first().map(|a| a.check.kind).unwrap_or(kind)
            } else {
                kind
            };
            inspections.push(intervention(kind, &here, place, places, now));
            left = elsewhere;
        }
    }
    if inspections.len() > 1 {
        reasons.push("the agencies share no one place for every on-site check: more than one inspection is scheduled".into());
    }
    for inspection in &inspections {
        if inspection.starts_at > latest_end(&asked, inspection) {
            reasons.push(format!(
                "the inspection at {} starts after an agency's window closes: the slot follows the latest opening of the agencies and the post",
                inspection.location_name.as_deref().unwrap_or("the border")
            ));
        }
    }
    let lead = asked
        .iter()
        .filter(|a| a.check.kind != CheckKind::Documentary)
        .chain(
            asked
                .iter()
                .filter(|a| a.check.kind == CheckKind::Documentary),
        )
        .min_by_key(|a| (std::cmp::Reverse(a.risk), a.rank))
        .map(|a| a.agency.to_owned());
    let pending: Vec<String> = parts
        .iter()
        .filter(|p| p.status == AssessmentStatus::Pending)
        .map(|p| name(&p.agency))
        .collect();
    let not_connected: Vec<String> = parts
        .iter()
        .filter(|p| p.status == AssessmentStatus::NotConnected)
        .map(|p| name(&p.agency))
        .collect();
    if !pending.is_empty() {
        reasons.push(format!(
            "provisional: waiting for {} to answer",
            pending.join(", ")
        ));
    }
    if !not_connected.is_empty() {
        reasons.push(format!(
            "not connected to the hub, so not in this plan: {} (arrange their checks directly)",
            not_connected.join(", ")
        ));
    }
    for part in &parts {
        if let Some(assessment) = &part.assessment {
            for reason in &assessment.reasons {
                reasons.push(format!("{}: {reason}", name(&part.agency)));
            }
        }
    }
    let inspections_requested = asked
        .iter()
        .filter(|a| a.check.kind != CheckKind::Documentary)
        .count() as i64;
    let inspections_scheduled = inspections.len() as i64;
    interventions.extend(inspections);
    let saving = PlanSaving {
        checks_requested: asked.len() as i64,
        inspections_requested,
        inspections_scheduled,
        inspections_avoided: inspections_requested - inspections_scheduled,
        interventions_scheduled: interventions.len() as i64,
    };
    let decision = if pending.is_empty() {
        decide(&parts, now, &name)
    } else {
        None
    };
    let status = match (&decision, pending.is_empty()) {
        (_, false) => PlanStatus::Provisional,
        (Some(_), true) => PlanStatus::Decided,
        (None, true) => PlanStatus::Planned,
    };
    Plan {
        status,
        lead_agency: lead,
        interventions,
        parts,
        reasons,
        saving,
        decision,
        ledger_seq: None,
    }
}

/// The release decision once every agency with checks recorded its outcome:
/// refused if any refuses, held if any holds, else released.
fn decide(
    parts: &[AgencyPart],
    now: DateTime<Utc>,
    name: &dyn Fn(&str) -> String,
) -> Option<ReleaseDecision> {
    let with_checks: Vec<&AgencyPart> = parts.iter().filter(|p| !p.checks().is_empty()).collect();
    if with_checks.iter().any(|p| p.outcome.is_none()) {
        return None;
    }
    if with_checks.is_empty() {
        return Some(ReleaseDecision {
            decision: Release::Released,
            reasons: vec!["no agency asked for a check".into()],
            decided_at: now,
        });
    }
    let outcomes: Vec<(&AgencyPart, &RecordedOutcome)> = with_checks
        .iter()
        .filter_map(|p| p.outcome.as_ref().map(|o| (*p, o)))
        .collect();
    let decision = if outcomes
        .iter()
        .any(|(_, o)| o.result == OutcomeResult::RefuseEntry)
    {
        Release::RefusedEntry
    } else if outcomes
        .iter()
        .any(|(_, o)| o.result == OutcomeResult::Hold)
    {
        Release::Held
    } else {
        Release::Released
    };
    let reasons = outcomes
        .iter()
        .map(|(p, o)| {
            let result = match o.result {
                OutcomeResult::Satisfactory => "satisfactory",
                OutcomeResult::Hold => "hold",
                OutcomeResult::RefuseEntry => "refuse entry",
            };
            if o.notes.is_empty() {
                format!("{}: {result}", name(&p.agency))
            } else {
                format!("{}: {result}: {}", name(&p.agency), o.notes)
            }
        })
        .collect();
    Some(ReleaseDecision {
        decision,
        reasons,
        decided_at: now,
    })
}

/// The place most of the checks can meet at: the preferred post if every
/// check can be done there, else the location offered by the most checks
/// (ties to the earliest offered). `None` when no check names a place.
fn meeting_place(asked: &[&Asked], preferred: Option<&str>) -> Option<String> {
    if let Some(post) = preferred {
        if asked
            .iter()
            .all(|a| a.check.locations.iter().any(|l| l == post))
        {
            return Some(post.to_owned());
        }
    }
    let mut best: Option<(&str, usize)> = None;
    for a in asked {
        for location in &a.check.locations {
            let count = asked
                .iter()
                .filter(|b| b.check.locations.contains(location))
                .count();
            if best.is_none_or(|(_, c)| count > c) {
                best = Some((location, count));
            }
        }
    }
    best.map(|(l, _)| l.to_owned())
}

fn latest_end(asked: &[Asked], inspection: &Intervention) -> DateTime<Utc> {
    asked
        .iter()
        .filter(|a| {
            inspection.agencies.iter().any(|g| g == a.agency)
                && inspection.covers.contains(&a.check.kind)
        })
        .map(|a| a.check.latest)
        .min()
        .unwrap_or(inspection.starts_at)
}

/// One intervention for `asked` at `place`: it starts when the last of them
/// can (and not before now) and lasts as long as the longest.
fn intervention(
    kind: CheckKind,
    asked: &[&Asked],
    place: Option<String>,
    places: &Places,
    now: DateTime<Utc>,
) -> Intervention {
    let earliest = asked.iter().map(|a| a.check.earliest).max().unwrap_or(now);
    // Papers can be checked from now on; goods only once they are there.
    let starts_at = match (&place, kind) {
        (_, CheckKind::Documentary) => earliest.max(now.with_nanosecond(0).unwrap_or(now)),
        (Some(place), _) => places.next_open(place, earliest),
        (None, _) => earliest,
    };
    let minutes = asked
        .iter()
        .map(|a| a.check.duration_minutes.max(0))
        .max()
        .unwrap_or(0);
    let mut covers: Vec<CheckKind> = asked.iter().map(|a| a.check.kind).collect();
    covers.sort();
    covers.dedup();
    let mut agencies: Vec<String> = Vec::new();
    for a in asked {
        if !agencies.iter().any(|g| g == a.agency) {
            agencies.push(a.agency.to_owned());
        }
    }
    Intervention {
        kind,
        covers,
        agencies,
        location_name: place
            .as_deref()
            .and_then(|p| places.name_of(p))
            .map(str::to_owned),
        location: place,
        starts_at,
        ends_at: starts_at + Duration::minutes(i64::from(minutes)),
        reasons: asked.iter().map(|a| a.check.reason.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::border::agencies::BUILTIN_AGENCIES;

    fn check(kind: CheckKind, locations: &[&str], from_hours: i64) -> RequestedCheck {
        let base = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        RequestedCheck {
            kind,
            lines: vec![],
            locations: locations.iter().map(|l| l.to_string()).collect(),
            earliest: base + Duration::hours(from_hours),
            latest: base + Duration::hours(24),
            duration_minutes: 30,
            reason: format!("{kind:?}"),
        }
    }

    fn answered(agency: &str, risk: RiskLevel, checks: Vec<RequestedCheck>) -> AgencyPart {
        AgencyPart {
            agency: agency.into(),
            status: AssessmentStatus::Answered,
            assessment: Some(RiskAssessment {
                risk_level: risk,
                btom_category: None,
                reasons: vec![],
                checks,
            }),
            outcome: None,
            last_error: None,
        }
    }

    fn merged(parts: Vec<AgencyPart>) -> Plan {
        let places = Places::builtin().expect("places");
        let registry =
            AgencyRegistry::parse(BUILTIN_AGENCIES, "built in", &places).expect("agencies");
        merge(parts, Some("GBSEV1"), &registry, &places, Utc::now())
    }

    #[test]
    fn on_site_checks_meet_at_one_place_at_the_latest_opening() {
        let plan = merged(vec![
            answered(
                "border-force",
                RiskLevel::Medium,
                vec![check(CheckKind::Physical, &["GBSEV1", "GBDOV"], 1)],
            ),
            answered(
                "apha",
                RiskLevel::High,
                vec![
                    check(CheckKind::Identity, &["GBSEV1"], 2),
                    check(CheckKind::Physical, &["GBSEV1"], 2),
                ],
            ),
        ]);
        assert_eq!(plan.interventions.len(), 1);
        let inspection = &plan.interventions[0];
        assert_eq!(inspection.location.as_deref(), Some("GBSEV1"));
        assert_eq!(
            inspection.covers,
            [CheckKind::Identity, CheckKind::Physical]
        );
        assert_eq!(
            inspection.starts_at,
            check(CheckKind::Physical, &[], 2).earliest
        );
        assert_eq!(plan.lead_agency.as_deref(), Some("apha"));
        assert_eq!(plan.saving.inspections_requested, 3);
        assert_eq!(plan.saving.inspections_avoided, 2);
        assert_eq!(plan.status, PlanStatus::Planned);
    }

    #[test]
    fn agencies_with_no_place_in_common_get_an_inspection_each() {
        let plan = merged(vec![
            answered(
                "apha",
                RiskLevel::High,
                vec![check(CheckKind::Physical, &["GBSEV1"], 1)],
            ),
            answered(
                "fsa",
                RiskLevel::Medium,
                vec![check(CheckKind::Sampling, &["GBFXT1"], 1)],
            ),
        ]);
        assert_eq!(plan.saving.inspections_scheduled, 2);
        assert!(plan
            .reasons
            .iter()
            .any(|r| r.contains("more than one inspection")));
    }

    #[test]
    fn the_release_decision_takes_the_gravest_outcome() {
        let outcome = |result| RecordedOutcome {
            result,
            notes: String::new(),
            recorded_at: Utc::now(),
            ledger_seq: 1,
        };
        for (results, decision) in [
            (
                [OutcomeResult::Satisfactory, OutcomeResult::Satisfactory],
                Release::Released,
            ),
            (
                [OutcomeResult::Hold, OutcomeResult::Satisfactory],
                Release::Held,
            ),
            (
                [OutcomeResult::Hold, OutcomeResult::RefuseEntry],
                Release::RefusedEntry,
            ),
        ] {
            let mut parts = vec![
                answered(
                    "apha",
                    RiskLevel::High,
                    vec![check(CheckKind::Physical, &["GBSEV1"], 1)],
                ),
                answered(
                    "port-health",
                    RiskLevel::High,
                    vec![check(CheckKind::Physical, &["GBSEV1"], 1)],
                ),
            ];
            assert!(merged(parts.clone()).decision.is_none());
            parts[0].outcome = Some(outcome(results[0]));
            parts[1].outcome = Some(outcome(results[1]));
            let plan = merged(parts);
            assert_eq!(plan.status, PlanStatus::Decided);
            assert_eq!(plan.decision.map(|d| d.decision), Some(decision));
        }
    }
}
