//! Asking one agency's subgraph for its assessment: the declaration (with
//! the consignment's reference) as `assessRisk`'s argument, the hub's
//! identity token so the agency knows the hub is asking, and a timeout. The
//! agency's answer is never trusted: anything but a well-formed assessment
//! is a failure to retry.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value as Json};

use super::declaration::Declaration;
use super::plan::RiskAssessment;
use crate::auth::hub_token::{HubIdentity, HUB_TOKEN_HEADER};
use crate::auth::Principal;

/// Most checks one agency may ask for in one assessment.
pub const MAX_CHECKS: usize = 64;
/// Largest answer read from an agency.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

const ASSESS_RISK: &str = "query AssessRisk($consignment: ConsignmentAssessmentInput!) { assessRisk(consignment: $consignment) { riskLevel btomCategory reasons checks { kind lines locations earliest latest durationMinutes reason } } }";

/// Calls agencies' subgraphs over pooled HTTP connections.
pub struct AgencyClient {
    http: reqwest::Client,
    identity: Option<Arc<HubIdentity>>,
    timeout: Duration,
}

impl AgencyClient {
    pub fn new(identity: Option<Arc<HubIdentity>>, timeout: Duration) -> AgencyClient {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        AgencyClient {
            http,
            identity,
            timeout,
        }
    }

    /// Asks the agency subgraph `subgraph` at `url` to assess consignment `reference`.
    pub async fn assess(
        &self,
        subgraph: &str,
        url: &reqwest::Url,
        reference: &str,
        declaration: &Declaration,
    ) -> Result<RiskAssessment, String> {
        let mut consignment = serde_json::to_value(declaration).map_err(|e| e.to_string())?;
        if let Json::Object(map) = &mut consignment {
            map.insert("reference".into(), Json::String(reference.to_owned()));
        }
        let body = json!({ "query": ASSESS_RISK, "variables": { "consignment": consignment } });
        let mut request = self
            .http
            .post(url.clone())
            .timeout(self.timeout)
            .json(&body);
        if let Some(identity) = &self.identity {
            request = request.header(
                HUB_TOKEN_HEADER,
                identity.token_for(&Principal::hub(), subgraph).as_ref(),
            );
        }
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                format!(
                    "{subgraph} did not answer within {} ms",
                    self.timeout.as_millis()
                )
            } else {
                format!("{subgraph} could not be reached: {e}")
            }
        })?;
        let status = response.status();
        if response
            .content_length()
            .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
        {
            return Err(format!(
                "{subgraph} answered more than {MAX_ANSWER_BYTES} bytes"
            ));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("{subgraph}: {e}"))?;
        if bytes.len() > MAX_ANSWER_BYTES {
            return Err(format!(
                "{subgraph} answered more than {MAX_ANSWER_BYTES} bytes"
            ));
        }
        let answer: Json = serde_json::from_slice(&bytes)
            .map_err(|_| format!("{subgraph} answered HTTP {status} with no GraphQL response"))?;
        if let Some(error) = answer.get("errors").and_then(|e| e.get(0)) {
            let message = error
                .get("message")
                .and_then(Json::as_str)
                .unwrap_or("an error");
            let code = error
                .pointer("/extensions/code")
                .and_then(Json::as_str)
                .unwrap_or("SUBGRAPH_ERROR");
            return Err(format!(
                "{subgraph} refused the assessment ({code}): {message}"
            ));
        }
        let assessment = answer
            .pointer("/data/assessRisk")
            .cloned()
            .ok_or_else(|| format!("{subgraph} answered no assessment"))?;
        let assessment: RiskAssessment = serde_json::from_value(assessment).map_err(|e| {
            format!("{subgraph} answered an assessment that does not fit the protocol: {e}")
        })?;
        if assessment.checks.len() > MAX_CHECKS {
            return Err(format!(
                "{subgraph} asked for more than {MAX_CHECKS} checks"
            ));
        }
        if let Some(check) = assessment
            .checks
            .iter()
            .find(|c| c.latest < c.earliest || !(0..=7 * 24 * 60).contains(&c.duration_minutes))
        {
            return Err(format!(
                "{subgraph} asked for a {:?} check with an impossible window",
                check.kind
            ));
        }
        Ok(assessment)
    }
}
