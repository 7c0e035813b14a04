//! The hub subgraph: the hub's own capabilities as an async-graphql federation
//! subgraph, composed into the supergraph beside the departments and executed
//! in process (no HTTP hop). `schema/hub.graphql` is its exported SDL.

pub mod border;
mod erasure;
pub mod ledger;
pub mod mutation_ledger;
mod page;
mod status;
mod subscriptions;
pub mod tellonce;
mod trail;
mod transport;

use std::sync::Arc;

use crate::ledger::Ledger;
use async_graphql::{MergedObject, SDLExportOptions, Schema};

pub use subscriptions::HubSubscription;

pub use mutation_ledger::MutationLedger;
pub use status::GatewayStatus;
pub use transport::InProcessTransport;

/// Who is asking a resolver (set by the in-process transport; anonymous if absent).
pub(crate) fn principal<'a>(ctx: &'a async_graphql::Context<'_>) -> &'a crate::auth::Principal {
    static ANONYMOUS: std::sync::OnceLock<crate::auth::Principal> = std::sync::OnceLock::new();
    ctx.data::<Arc<crate::auth::Principal>>()
        .map(|p| p.as_ref())
        .unwrap_or_else(|_| ANONYMOUS.get_or_init(crate::auth::Principal::anonymous))
}

/// The subgraph name the hub registers itself under.
pub const HUB_SUBGRAPH_NAME: &str = "hub";

/// The root query of the hub subgraph, merged from each capability's part.
/// Named `Query` in the SDL: composition finds root types by name.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct HubQuery(
    status::StatusQuery,
    ledger::LedgerQuery,
    tellonce::TellOnceQuery,
    trail::TrailQuery,
    border::BorderQuery,
);

/// The root mutation of the hub subgraph, merged from each capability's part.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct HubMutation(
    tellonce::TellOnceMutation,
    erasure::ErasureMutation,
    border::BorderMutation,
);

pub type HubSchema = Schema<HubQuery, HubMutation, HubSubscription>;

/// What the hub subgraph's resolvers read.
#[derive(Clone)]
pub struct HubContext {
    pub gateway_status: Arc<dyn GatewayStatus>,
    pub ledger: Arc<Ledger>,
    /// Tell us once (absent: its fields answer that it is not served).
    pub tellonce: Option<Arc<crate::tellonce::TellOnce>>,
    /// Border coordination (absent: its fields answer that it is not served).
    pub border: Option<Arc<crate::border::Border>>,
    /// What subscriptions follow (absent: subscriptions answer that they are not served).
    pub tail: Option<Arc<crate::events::LedgerTail>>,
    /// Department feeds shared by `lifeEvents` subscribers.
    pub live_feeds: Option<Arc<crate::tellonce::live_feed::LiveFeeds>>,
}

/// Builds the hub subgraph schema with its context.
pub fn build_schema(context: HubContext) -> HubSchema {
    let mut builder = Schema::build(HubQuery::default(), HubMutation::default(), HubSubscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .data(context.gateway_status)
        .data(context.ledger);
    if let Some(tellonce) = context.tellonce {
        builder = builder.data(tellonce);
    }
    if let Some(border) = context.border {
        builder = builder.data(border);
    }
    if let Some(tail) = context.tail {
        builder = builder.data(tail);
    }
    if let Some(live_feeds) = context.live_feeds {
        builder = builder.data(live_feeds);
    }
    builder.finish()
}

/// Who may ask for which of the hub's fields, as federation authorization
/// directives (the gateway enforces them before the hub is called; the
/// resolvers check ownership, which depends on the arguments).
const FIELD_DIRECTIVES: &[(&str, &str)] = &[
    (
        "tellUsOnce",
        r#"@policy(policies: [["registrar"], ["citizen"]])"#,
    ),
    (
        "acknowledgeLifeEvent",
        r#"@policy(policies: [["department"]])"#,
    ),
    ("replayNotification", r#"@policy(policies: [["operator"]])"#),
    ("replayDeadLetters", r#"@policy(policies: [["operator"]])"#),
    ("lifeEvent", "@authenticated"),
    (
        "lifeEventFeed",
        r#"@policy(policies: [["department"], ["operator"]])"#,
    ),
    ("deadLetters", r#"@policy(policies: [["operator"]])"#),
    ("myDataTrail", r#"@policy(policies: [["citizen"]])"#),
    ("eraseSubject", r#"@policy(policies: [["operator"]])"#),
    (
        "declareConsignment",
        r#"@requiresScopes(scopes: [["border:declare"]])"#,
    ),
    (
        "recordInterventionOutcome",
        r#"@policy(policies: [["agency"]])"#,
    ),
    (
        "agencyWorklist",
        r#"@policy(policies: [["agency"], ["operator"]])"#,
    ),
    ("interventionPlan", "@authenticated"),
    ("consignments", "@authenticated"),
    ("borderAgencies", "@authenticated"),
    ("borderTraderFlags", "@authenticated"),
    ("borderSaving", "@authenticated"),
    (
        "lifeEvents",
        r#"@policy(policies: [["department"], ["operator"]])"#,
    ),
    ("lifeEventStatus", "@authenticated"),
    ("interventionPlanUpdated", "@authenticated"),
];

/// The hub subgraph's SDL with federation directives, as composition needs it.
pub fn sdl() -> String {
    let exported = Schema::build(HubQuery::default(), HubMutation::default(), HubSubscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation());
    with_authorization(&exported)
}

/// async-graphql exports `@requiresScopes` only: add `@authenticated` and
/// `@policy` (federation v2.6) on the fields that need them.
fn with_authorization(sdl: &str) -> String {
    let mut out = String::with_capacity(sdl.len() + 512);
    for line in sdl.lines() {
        out.push_str(line);
        let field = line.trim_start_matches('\t');
        let name = field.split(['(', ':']).next().unwrap_or("");
        if line.starts_with('\t') && !line.starts_with("\t\t") && field.len() > name.len() {
            if let Some((_, directive)) = FIELD_DIRECTIVES.iter().find(|(n, _)| *n == name) {
                out.push(' ');
                out.push_str(directive);
            }
        }
        out.push('\n');
    }
    out.replace("federation/v2.5", "federation/v2.6").replace(
        "\"@requiresScopes\"]",
        "\"@requiresScopes\", \"@authenticated\", \"@policy\"]",
    )
}
