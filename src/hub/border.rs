//! The border part of the hub subgraph: `declareConsignment`,
//! `recordInterventionOutcome`, the plan (joinable with HMRC's and
//! Companies House's data through `trader`), the consignments connection,
//! an agency's worklist, the agencies and the running totals.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, InputObject, Object, SimpleObject, ID};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, Utc};

use super::page::page_size;
use super::principal;
use crate::border::plan::{
    AssessmentStatus, CheckKind, Intervention, OutcomeResult, PlanSaving, RecordedOutcome,
    ReleaseDecision, RiskAssessment,
};
use crate::border::{
    Border, BorderError, ConsignmentDeclarationInput, ConsignmentPage, PlanStatus, PlanView,
};
use crate::error_code::ErrorCode;

pub(super) fn graphql_error(error: BorderError) -> async_graphql::Error {
    let code = error.code();
    if code == ErrorCode::InternalServerError {
        tracing::error!(%error, "border coordination failed");
        return async_graphql::Error::new("internal error")
            .extend_with(|_, e| e.set("code", code.as_str()));
    }
    async_graphql::Error::new(error.to_string()).extend_with(|_, e| {
        e.set("code", code.as_str());
        if let BorderError::Invalid(invalid) = &error {
            e.set("field", invalid.field.as_str());
            e.set("rule", invalid.rule);
        }
    })
}

pub(super) fn service<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Arc<Border>> {
    ctx.data::<Arc<Border>>().map_err(|_| {
        async_graphql::Error::new("this hub does not serve border coordination")
            .extend_with(|_, e| e.set("code", ErrorCode::InternalServerError.as_str()))
    })
}

/// A trader as the departments know it (resolved by HMRC and Border Force).
#[derive(SimpleObject)]
#[graphql(name = "Trader", unresolvable = "eori")]
pub struct TraderReference {
    pub eori: String,
}

/// One agency's part in a plan.
pub struct AgencyPartObject {
    part: crate::border::plan::AgencyPart,
    name: String,
}

#[Object(name = "AgencyAssessment")]
impl AgencyPartObject {
    async fn agency(&self) -> &str {
        &self.part.agency
    }
    async fn agency_name(&self) -> &str {
        &self.name
    }
    async fn status(&self) -> AssessmentStatus {
        self.part.status
    }
    /// The agency's answer, once it has given one.
    async fn assessment(&self) -> Option<&RiskAssessment> {
        self.part.assessment.as_ref()
    }
    async fn outcome(&self) -> Option<&RecordedOutcome> {
        self.part.outcome.as_ref()
    }
    /// Why the hub could not ask it yet, while pending.
    async fn last_error(&self) -> Option<&str> {
        self.part.last_error.as_deref()
    }
}

/// One consignment's coordinated intervention plan.
pub struct InterventionPlanObject(pub(super) PlanView, pub(super) Arc<Border>);

#[Object(name = "InterventionPlan")]
impl InterventionPlanObject {
    /// The plan's id (the consignment's).
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn status(&self) -> PlanStatus {
        self.0.plan.status
    }
    /// 0 when declared, one more at each change; each revision is ledgered.
    async fn revision(&self) -> i64 {
        self.0.revision
    }
    async fn declared_at(&self) -> DateTime<Utc> {
        self.0.declared_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The importer, to join with HMRC's and Companies House's records.
    async fn trader(&self) -> TraderReference {
        TraderReference {
            eori: self.0.trader_eori.clone(),
        }
    }
    async fn declarant(&self) -> &str {
        &self.0.declaration.declarant
    }
    async fn origin_country(&self) -> &str {
        &self.0.declaration.origin_country
    }
    async fn port_of_entry(&self) -> &str {
        &self.0.declaration.port_of_entry
    }
    async fn border_control_post(&self) -> Option<&str> {
        self.0.declaration.border_control_post.as_deref()
    }
    async fn arrives_at(&self) -> DateTime<Utc> {
        self.0.declaration.arrives_at
    }
    async fn goods_movement_reference(&self) -> Option<&str> {
        self.0.declaration.goods_movement_reference.as_deref()
    }
    async fn commodity_codes(&self) -> Vec<&str> {
        self.0
            .declaration
            .items
            .iter()
            .map(|i| i.commodity_code.as_str())
            .collect()
    }
    /// The agency leading the joint inspection (none when no agency asked for a check).
    async fn lead_agency(&self) -> Option<&str> {
        self.0.plan.lead_agency.as_deref()
    }
    /// Where the joint inspection is, when there is one.
    async fn location(&self) -> Option<&str> {
        self.on_site().and_then(|i| i.location.as_deref())
    }
    async fn slot_starts_at(&self) -> Option<DateTime<Utc>> {
        self.on_site().map(|i| i.starts_at)
    }
    async fn slot_ends_at(&self) -> Option<DateTime<Utc>> {
        self.on_site().map(|i| i.ends_at)
    }
    async fn interventions(&self) -> &[Intervention] {
        &self.0.plan.interventions
    }
    /// Every agency in scope, in the agencies file's order.
    async fn assessments(&self) -> Vec<AgencyPartObject> {
        let registry = self.1.registry();
        self.0
            .plan
            .parts
            .iter()
            .map(|part| AgencyPartObject {
                name: registry
                    .get(&part.agency)
                    .map(|a| a.name.clone())
                    .unwrap_or_else(|| part.agency.clone()),
                part: part.clone(),
            })
            .collect()
    }
    /// Agencies in scope that the hub cannot ask (arranged outside this plan).
    async fn not_connected(&self) -> Vec<&str> {
        self.0
            .plan
            .parts
            .iter()
            .filter(|p| p.status == AssessmentStatus::NotConnected)
            .map(|p| p.agency.as_str())
            .collect()
    }
    async fn reasons(&self) -> &[String] {
        &self.0.plan.reasons
    }
    /// What the plan saves: checks asked for against interventions scheduled.
    async fn saving(&self) -> PlanSaving {
        self.0.plan.saving
    }
    async fn decision(&self) -> Option<&ReleaseDecision> {
        self.0.plan.decision.as_ref()
    }
    /// The ledger entry recording the declaration.
    async fn declaration_ledger_seq(&self) -> i64 {
        self.0.ledger_seq
    }
    async fn declaration_entry_hash(&self) -> String {
        crate::ledger::encoding::encode(&self.0.entry_hash)
    }
    async fn declaration_signature(&self) -> String {
        BASE64.encode(&self.0.signature)
    }
    /// The ledger entry recording this revision of the plan.
    async fn ledger_seq(&self) -> Option<i64> {
        self.0.plan.ledger_seq
    }
}

impl InterventionPlanObject {
    fn on_site(&self) -> Option<&Intervention> {
        self.0
            .plan
            .interventions
            .iter()
            .find(|i| i.kind != CheckKind::Documentary)
    }
}

#[derive(SimpleObject)]
pub struct InterventionPlanEdge {
    /// The consignment's id.
    pub cursor: String,
    pub node: InterventionPlanObject,
}

#[derive(SimpleObject)]
pub struct InterventionPlanPageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct InterventionPlanConnection {
    pub edges: Vec<InterventionPlanEdge>,
    pub page_info: InterventionPlanPageInfo,
}

fn connection(page: ConsignmentPage, border: &Arc<Border>) -> InterventionPlanConnection {
    let edges: Vec<InterventionPlanEdge> = page
        .views
        .into_iter()
        .map(|view| InterventionPlanEdge {
            cursor: view.id.clone(),
            node: InterventionPlanObject(view, border.clone()),
        })
        .collect();
    InterventionPlanConnection {
        page_info: InterventionPlanPageInfo {
            has_next_page: page.has_next,
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
    }
}

/// An organisation acting at the border.
#[derive(SimpleObject)]
pub struct BorderAgency {
    pub id: String,
    pub name: String,
    pub parent: Option<String>,
    pub description: String,
    /// Whether the hub can ask it for assessments (its subgraph is configured).
    pub connected: bool,
    pub lead_rank: i64,
}

/// A licence or authorisation a declaration may carry.
#[derive(SimpleObject)]
pub struct TraderFlag {
    pub code: String,
    pub description: String,
}

/// Running totals over every plan: what coordination saved.
#[derive(SimpleObject)]
pub struct BorderSaving {
    pub declarations: i64,
    pub checks_requested: i64,
    pub inspections_requested: i64,
    pub inspections_scheduled: i64,
    pub inspections_avoided: i64,
    pub interventions_scheduled: i64,
}

/// What an agency found.
#[derive(InputObject)]
pub struct InterventionOutcomeInput {
    pub result: OutcomeResult,
    /// What was found, for the record (at most 2000 characters).
    #[graphql(default)]
    pub notes: String,
}

#[derive(Default)]
pub struct BorderQuery;

#[Object]
impl BorderQuery {
    /// A consignment's intervention plan.
    async fn intervention_plan(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<InterventionPlanObject>> {
        let border = service(ctx)?;
        let view = border
            .plan(id.0, principal(ctx))
            .await
            .map_err(graphql_error)?;
        Ok(view.map(|v| InterventionPlanObject(v, border.clone())))
    }

    /// Declared consignments and their plans, oldest first: all of them for
    /// operators and the border:read scope, otherwise the caller's own.
    async fn consignments(
        &self,
        ctx: &Context<'_>,
        trader: Option<String>,
        status: Option<PlanStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<InterventionPlanConnection> {
        let border = service(ctx)?;
        let page = border
            .consignments(
                trader,
                status,
                page_size(first.map(i64::from))?,
                after,
                principal(ctx),
            )
            .await
            .map_err(graphql_error)?;
        Ok(connection(page, border))
    }

    /// The plans in which `agency` has checks awaiting its outcome, oldest first.
    async fn agency_worklist(
        &self,
        ctx: &Context<'_>,
        agency: String,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<InterventionPlanConnection> {
        let border = service(ctx)?;
        let page = border
            .worklist(
                agency,
                page_size(first.map(i64::from))?,
                after,
                principal(ctx),
            )
            .await
            .map_err(graphql_error)?;
        Ok(connection(page, border))
    }

    /// Every organisation acting at the border, in the agencies file's order.
    async fn border_agencies(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<BorderAgency>> {
        let border = service(ctx)?;
        Ok(border
            .registry()
            .all()
            .iter()
            .map(|a| BorderAgency {
                connected: border.agency_url(a).is_some(),
                id: a.id.clone(),
                name: a.name.clone(),
                parent: a.parent.clone(),
                description: a.description.clone(),
                lead_rank: a.lead_rank,
            })
            .collect())
    }

    /// The licences and authorisations a declaration's `traderFlags` may name.
    async fn border_trader_flags(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<TraderFlag>> {
        Ok(service(ctx)?
            .registry()
            .trader_flags()
            .iter()
            .map(|(code, description)| TraderFlag {
                code: code.clone(),
                description: description.clone(),
            })
            .collect())
    }

    /// What coordination saved so far: inspections requested, scheduled, avoided.
    async fn border_saving(&self, ctx: &Context<'_>) -> async_graphql::Result<BorderSaving> {
        let totals = service(ctx)?.totals().await.map_err(graphql_error)?;
        Ok(BorderSaving {
            declarations: totals.declarations,
            checks_requested: totals.checks_requested,
            inspections_requested: totals.inspections_requested,
            inspections_scheduled: totals.inspections_scheduled,
            inspections_avoided: totals.inspections_requested - totals.inspections_scheduled,
            interventions_scheduled: totals.interventions_scheduled,
        })
    }
}

#[derive(Default)]
pub struct BorderMutation;

#[Object]
impl BorderMutation {
    /// Declares a consignment once for every agency acting at the border and
    /// answers with its coordinated intervention plan (provisional while an
    /// agency has not answered). Repeating the idempotency key with the same
    /// declaration answers the same plan.
    async fn declare_consignment(
        &self,
        ctx: &Context<'_>,
        declaration: ConsignmentDeclarationInput,
        idempotency_key: String,
    ) -> async_graphql::Result<InterventionPlanObject> {
        let border = service(ctx)?;
        let view = border
            .declare(declaration, idempotency_key, principal(ctx))
            .await
            .map_err(graphql_error)?;
        Ok(InterventionPlanObject(view, border.clone()))
    }

    /// Records an agency's outcome of its checks, as that agency's own principal.
    async fn record_intervention_outcome(
        &self,
        ctx: &Context<'_>,
        plan_id: ID,
        agency: String,
        outcome: InterventionOutcomeInput,
    ) -> async_graphql::Result<InterventionPlanObject> {
        let border = service(ctx)?;
        let view = border
            .record_outcome(
                plan_id.0,
                agency,
                outcome.result,
                outcome.notes,
                principal(ctx),
            )
            .await
            .map_err(graphql_error)?;
        Ok(InterventionPlanObject(view, border.clone()))
    }
}
