//! Example border agency subgraphs: six organisations acting at the UK border, each answering
//! the hub's risk-assessment protocol (`agency`, `assessRisk`) with its own rules.
//!
//! Every agency serves the same schema ([`protocol`]); only the rules differ, selected by the
//! [`Agency`] in the schema's data. The hub calls these subgraphs directly (they are not
//! composed into its supergraph), and only the hub may ask for an assessment: see
//! [`crate::hub_identity::HubOnly`].

pub mod apha;
pub mod border_force;
mod btom;
pub mod consignment;
mod findings;
pub mod fsa;
pub mod hmrc_customs;
mod places;
pub mod plant_health;
pub mod port_health;
pub mod protocol;
mod selection;
#[cfg(test)]
mod tests;
pub mod trader_history;
pub mod validation;

use crate::department_error::ForGraphql;
use crate::hub_identity::HubOnly;
use crate::{server, DepartmentOptions, RunningDepartment};
use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, SDLExportOptions, Schema};
use consignment::Consignment;
use protocol::{AgencyProfile, ConsignmentAssessmentInput, RiskAssessment};
use std::fmt;
use std::net::TcpListener;

/// One example border agency subgraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agency {
    BorderForce,
    HmrcCustoms,
    Apha,
    PlantHealth,
    Fsa,
    PortHealth,
}

const ALL: [Agency; 6] = [
    Agency::BorderForce,
    Agency::HmrcCustoms,
    Agency::Apha,
    Agency::PlantHealth,
    Agency::Fsa,
    Agency::PortHealth,
];

impl Agency {
    /// Every agency, in a stable order.
    pub fn all() -> &'static [Agency] {
        &ALL
    }

    /// The subgraph name (the audience of the hub's tokens), e.g. `plant-health`.
    pub fn name(self) -> &'static str {
        match self {
            Agency::BorderForce => "border-force",
            Agency::HmrcCustoms => "hmrc-customs",
            Agency::Apha => "apha",
            Agency::PlantHealth => "plant-health",
            Agency::Fsa => "fsa",
            Agency::PortHealth => "port-health",
        }
    }

    /// The organisation's full name, e.g. `Food Standards Agency`.
    pub fn title(self) -> &'static str {
        match self {
            Agency::BorderForce => "Border Force",
            Agency::HmrcCustoms => "HMRC Customs",
            Agency::Apha => "Animal and Plant Health Agency",
            Agency::PlantHealth => "Plant Health and Seeds Inspectorate",
            Agency::Fsa => "Food Standards Agency",
            Agency::PortHealth => "Port Health Authority",
        }
    }

    /// The agency whose subgraph name is `name`.
    pub fn from_name(name: &str) -> Option<Agency> {
        ALL.iter().copied().find(|a| a.name() == name)
    }

    /// The SDL, exactly as the running subgraph returns it from `_service { sdl }`; the same
    /// for every agency.
    pub fn sdl(self) -> String {
        let options = SDLExportOptions::new().federation().compose_directive();
        schema(self).sdl_with_options(options)
    }

    /// This agency's assessment of a validated consignment.
    pub fn assess(self, consignment: &Consignment) -> RiskAssessment {
        match self {
            Agency::BorderForce => border_force::assess(consignment),
            Agency::HmrcCustoms => hmrc_customs::assess(consignment),
            Agency::Apha => apha::assess(consignment),
            Agency::PlantHealth => plant_health::assess(consignment),
            Agency::Fsa => fsa::assess(consignment),
            Agency::PortHealth => port_health::assess(consignment),
        }
    }
}

impl fmt::Display for Agency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An agency's subgraph schema; which agency it is lives in the schema's data.
pub type AgencySchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// A new subgraph for `agency`.
pub fn schema(agency: Agency) -> AgencySchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .data(agency)
        .enable_federation()
        .finish()
}

/// Start `agency` on `listener` (bound by the caller), trusting the hub as `options` say.
/// Must be called from within a tokio runtime.
pub async fn start_agency(
    agency: Agency,
    listener: TcpListener,
    options: DepartmentOptions,
) -> std::io::Result<RunningDepartment> {
    server::serve(agency, schema(agency), listener, options)
}

/// The queries every agency answers.
pub struct Query;

#[Object]
impl Query {
    /// The agency this subgraph speaks for.
    async fn agency(&self, ctx: &Context<'_>) -> async_graphql::Result<AgencyProfile> {
        let agency = ctx.data::<Agency>()?;
        Ok(AgencyProfile {
            id: agency.name().to_string(),
            name: agency.title().to_string(),
        })
    }

    /// This agency's assessment of one declared consignment. Only the hub may ask (its
    /// identity token), as for the departments' receiving mutations; without a verified hub
    /// token when `require_hub_token` is set, refuse with extensions.code FORBIDDEN.
    #[graphql(guard = "HubOnly")]
    async fn assess_risk(
        &self,
        ctx: &Context<'_>,
        consignment: ConsignmentAssessmentInput,
    ) -> async_graphql::Result<RiskAssessment> {
        let agency = ctx.data::<Agency>()?;
        let consignment = consignment.validate().for_graphql()?;
        Ok(agency.assess(&consignment))
    }
}
