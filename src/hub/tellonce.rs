//! The tell-us-once part of the hub subgraph: `tellUsOnce`, status
//! (`lifeEvent`, joinable with department data through `person`/`company`),
//! the per-department feed and acknowledgements, and operator replay of
//! dead letters.

use std::sync::Arc;

use async_graphql::{Context, Enum, ErrorExtensions, Json, Object, SimpleObject, ID};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, Utc};

use super::principal;
use crate::auth::{Principal, PrincipalKind};
use crate::tellonce::outbox::ReplayFilter;
use crate::tellonce::status::{EventStatus, FeedPage, FeedRow};
use crate::tellonce::tables::{EventRow, OutboxRow};
use crate::tellonce::{LifeEventInput, LifeEventReceipt, LifeEventType, TellOnce, TellOnceError};

pub(super) fn graphql_error(error: TellOnceError) -> async_graphql::Error {
    if let TellOnceError::Storage(detail) = &error {
        tracing::error!(%detail, "tell us once storage failure");
        return async_graphql::Error::new("internal error").extend_with(|_, e| {
            e.set("code", error.code().as_str());
        });
    }
    let code = error.code().as_str();
    async_graphql::Error::new(error.to_string()).extend_with(|_, e| {
        e.set("code", code);
        match &error {
            TellOnceError::Invalid(invalid) => {
                e.set("field", invalid.field());
                e.set("rule", invalid.rule());
            }
            TellOnceError::Contradicts { fields, .. } => {
                if let Some(first) = fields.first() {
                    e.set("field", first.as_str());
                }
                e.set(
                    "fields",
                    async_graphql::Value::List(
                        fields
                            .iter()
                            .map(|f| async_graphql::Value::from(f.as_str()))
                            .collect(),
                    ),
                );
            }
            _ => {}
        }
    })
}

pub(super) fn service<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Arc<TellOnce>> {
    ctx.data::<Arc<TellOnce>>()
        .map_err(|_| graphql_error(TellOnceError::NotServed))
}

fn forbidden(message: impl Into<String>) -> async_graphql::Error {
    graphql_error(TellOnceError::Forbidden(message.into()))
}

/// Operators (and the hub itself) only.
pub(super) fn require_operator(ctx: &Context<'_>, what: &str) -> async_graphql::Result<String> {
    let principal = principal(ctx);
    match principal.kind {
        PrincipalKind::Operator | PrincipalKind::Hub => Ok(principal.id.clone()),
        _ => Err(forbidden(format!("{what} needs an operator's credential"))),
    }
}

/// The principal may act for `department` (its own, or any for operators),
/// and `department` is one that routing rules tell (else `NOT_FOUND`).
pub(super) fn require_department(ctx: &Context<'_>, department: &str) -> async_graphql::Result<()> {
    let principal = principal(ctx);
    if !(principal.acts_for(department)
        || matches!(principal.kind, PrincipalKind::Operator | PrincipalKind::Hub))
    {
        return Err(forbidden(format!(
            "only department {department} may read or acknowledge its own notifications"
        )));
    }
    service(ctx)?
        .known_department(department)
        .map_err(graphql_error)
}

/// Who may see a life event's status: those who told or may tell it, the
/// departments it was routed to, the citizen it is about, operators.
pub(super) fn may_read_event(principal: &Principal, status: &EventStatus) -> bool {
    match principal.kind {
        PrincipalKind::Operator | PrincipalKind::Hub | PrincipalKind::Registrar => true,
        PrincipalKind::Citizen => {
            status.event.subject_scheme == "nino"
                && principal.nino.as_deref() == Some(status.event.subject_value.as_str())
        }
        PrincipalKind::Department | PrincipalKind::Agency => {
            principal.department.as_ref().is_some_and(|d| {
                crate::tellonce::submit::split_departments(&status.event.departments).contains(d)
            })
        }
        _ => false,
    }
}

pub(super) fn time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// The signed receipt for an accepted life event.
#[derive(SimpleObject)]
#[graphql(name = "LifeEventReceipt")]
pub struct ReceiptObject {
    pub event_id: ID,
    /// The ledger entry recording the event.
    pub ledger_seq: i64,
    /// Hex SHA-256 entry hash.
    pub entry_hash: String,
    /// Base64 Ed25519 signature over the sequence and entry hash.
    pub signature: String,
    /// The departments to be told, in rule order.
    pub departments: Vec<String>,
}

impl From<LifeEventReceipt> for ReceiptObject {
    fn from(r: LifeEventReceipt) -> Self {
        ReceiptObject {
            event_id: ID(r.event_id),
            ledger_seq: r.ledger_seq as i64,
            entry_hash: crate::ledger::encoding::encode(&r.entry_hash),
            signature: BASE64.encode(r.signature),
            departments: r.departments,
        }
    }
}

/// Where a notification to one department is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LifeEventNotificationStatus {
    /// Waiting for (another) delivery attempt.
    Pending,
    Delivered,
    /// Attempts exhausted; `replayNotification` puts it back in the queue.
    DeadLetter,
    /// A department that pulls has not acknowledged it yet.
    AwaitingAcknowledgement,
    Acknowledged,
    /// The subject's data was erased before the department had it: it is
    /// not delivered (`lastError` says so).
    Cancelled,
}

impl LifeEventNotificationStatus {
    fn of(text: &str) -> Self {
        use crate::tellonce::tables::status;
        match text {
            status::DELIVERED => Self::Delivered,
            status::DEAD_LETTER => Self::DeadLetter,
            status::AWAITING_ACKNOWLEDGEMENT => Self::AwaitingAcknowledgement,
            status::ACKNOWLEDGED => Self::Acknowledged,
            status::CANCELLED => Self::Cancelled,
            _ => Self::Pending,
        }
    }
}

/// One department's notification of a life event.
pub struct NotificationObject(OutboxRow);

#[Object(name = "LifeEventNotification")]
impl NotificationObject {
    async fn event_id(&self) -> ID {
        ID(self.0.event_id.clone())
    }
    async fn department(&self) -> &str {
        &self.0.department
    }
    /// The routing rule that told the department.
    async fn rule(&self) -> &str {
        &self.0.rule_name
    }
    async fn status(&self) -> LifeEventNotificationStatus {
        LifeEventNotificationStatus::of(&self.0.status)
    }
    /// Delivery attempts made so far.
    async fn attempts(&self) -> i64 {
        self.0.attempts
    }
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_micros.map(time)
    }
    async fn acknowledged_at(&self) -> Option<DateTime<Utc>> {
        self.0.acknowledged_micros.map(time)
    }
}

/// A person as the departments know them (resolved by the departments).
#[derive(SimpleObject)]
#[graphql(name = "Person", unresolvable = "nino")]
pub struct PersonReference {
    pub nino: String,
}

/// A company as the departments know it (resolved by the departments).
#[derive(SimpleObject)]
#[graphql(name = "Company", unresolvable = "companyNumber")]
pub struct CompanyReference {
    pub company_number: String,
}

/// A life event told once, and what became of it.
pub struct LifeEventObject(pub(super) EventStatus);

#[Object(name = "LifeEvent")]
impl LifeEventObject {
    async fn id(&self) -> ID {
        ID(self.0.event.id.clone())
    }
    #[graphql(name = "type")]
    async fn event_type(&self) -> Option<LifeEventType> {
        LifeEventType::from_input_field(&self.0.event.event_type)
    }
    async fn received_at(&self) -> DateTime<Utc> {
        time(self.0.event.received_micros)
    }
    async fn ledger_seq(&self) -> i64 {
        self.0.event.ledger_seq
    }
    async fn entry_hash(&self) -> String {
        crate::ledger::encoding::encode(&self.0.event.entry_hash)
    }
    async fn departments(&self) -> Vec<String> {
        crate::tellonce::submit::split_departments(&self.0.event.departments)
    }
    async fn notifications(&self) -> Vec<NotificationObject> {
        self.0
            .notifications
            .iter()
            .cloned()
            .map(NotificationObject)
            .collect()
    }
    /// The person the event is about, to join with department data.
    async fn person(&self) -> Option<PersonReference> {
        (self.0.event.subject_scheme == "nino").then(|| PersonReference {
            nino: self.0.event.subject_value.clone(),
        })
    }
    /// The company the event is about, to join with department data.
    async fn company(&self) -> Option<CompanyReference> {
        (self.0.event.subject_scheme == "company").then(|| CompanyReference {
            company_number: self.0.event.subject_value.clone(),
        })
    }
}

/// One event in a department's feed: only the fields its rule names.
pub struct FeedItemObject(pub(super) Arc<FeedRow>);

impl FeedItemObject {
    pub(super) fn row(&self) -> &OutboxRow {
        &self.0 .0
    }
    pub(super) fn event(&self) -> &EventRow {
        &self.0 .1
    }
}

#[Object(name = "LifeEventFeedItem")]
impl FeedItemObject {
    async fn event_id(&self) -> ID {
        ID(self.row().event_id.clone())
    }
    #[graphql(name = "type")]
    async fn event_type(&self) -> Option<LifeEventType> {
        LifeEventType::from_input_field(&self.event().event_type)
    }
    async fn ledger_seq(&self) -> i64 {
        self.row().event_seq
    }
    async fn received_at(&self) -> DateTime<Utc> {
        time(self.event().received_micros)
    }
    /// The event's fields this department is told, as its rule names them;
    /// null once the department has them and their retention ran out
    /// (`retain_delivered_days`).
    async fn data(&self) -> Option<Json<serde_json::Value>> {
        let variables = &self.row().variables;
        (variables != crate::tellonce::outbox::CLEARED)
            .then(|| Json(serde_json::from_str(variables).unwrap_or(serde_json::Value::Null)))
    }
    async fn status(&self) -> LifeEventNotificationStatus {
        LifeEventNotificationStatus::of(&self.row().status)
    }
    async fn acknowledged_at(&self) -> Option<DateTime<Utc>> {
        self.row().acknowledged_micros.map(time)
    }
}

#[derive(SimpleObject)]
pub struct LifeEventFeedEdge {
    /// The event's ledger sequence.
    pub cursor: String,
    pub node: FeedItemObject,
}

#[derive(SimpleObject)]
pub struct LifeEventFeedPageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct LifeEventFeedConnection {
    pub edges: Vec<LifeEventFeedEdge>,
    pub page_info: LifeEventFeedPageInfo,
}

impl From<FeedPage> for LifeEventFeedConnection {
    fn from(page: FeedPage) -> Self {
        let edges: Vec<LifeEventFeedEdge> = page
            .items
            .into_iter()
            .map(|row| LifeEventFeedEdge {
                cursor: row.0.event_seq.to_string(),
                node: FeedItemObject(Arc::new(row)),
            })
            .collect();
        LifeEventFeedConnection {
            page_info: LifeEventFeedPageInfo {
                has_next_page: page.has_next_page,
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        }
    }
}

#[derive(Default)]
pub struct TellOnceQuery;

#[Object]
impl TellOnceQuery {
    /// A life event by id, with each department's notification status.
    async fn life_event(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<LifeEventObject>> {
        let found = service(ctx)?
            .event_status(id.0)
            .await
            .map_err(graphql_error)?;
        match found {
            Some(status) if !may_read_event(principal(ctx), &status) => Err(forbidden(
                "this life event is not about you and was not routed to you",
            )),
            found => Ok(found.map(LifeEventObject)),
        }
    }

    /// The events routed to `department`, in ledger order, after the cursor.
    async fn life_event_feed(
        &self,
        ctx: &Context<'_>,
        department: String,
        after: Option<String>,
        #[graphql(default = 50)] first: i32,
    ) -> async_graphql::Result<LifeEventFeedConnection> {
        require_department(ctx, &department)?;
        let first = super::page::page_size(Some(i64::from(first)))?;
        let after = match after {
            None => None,
            Some(cursor) => Some(cursor.parse::<i64>().map_err(|_| {
                graphql_error(TellOnceError::BadArgument(
                    "after must be a cursor from this feed".into(),
                ))
            })?),
        };
        let page = service(ctx)?
            .feed(department, after, first as i64)
            .await
            .map_err(graphql_error)?;
        Ok(page.into())
    }

    /// Notifications whose attempts ran out, oldest first.
    async fn dead_letters(
        &self,
        ctx: &Context<'_>,
        department: Option<String>,
        #[graphql(default = 50)] first: i32,
    ) -> async_graphql::Result<Vec<NotificationObject>> {
        require_operator(ctx, "reading dead letters")?;
        let first = super::page::page_size(Some(i64::from(first)))?;
        if let Some(department) = &department {
            service(ctx)?
                .known_department(department)
                .map_err(graphql_error)?;
        }
        let rows = service(ctx)?
            .dead_letters(department, first as i64)
            .await
            .map_err(graphql_error)?;
        Ok(rows.into_iter().map(NotificationObject).collect())
    }
}

#[derive(Default)]
pub struct TellOnceMutation;

#[Object]
impl TellOnceMutation {
    /// Tell government about a life event once. The same idempotency key
    /// with the same event returns the same receipt; with a different event
    /// it is refused (CONFLICT). A death, or a business registered or
    /// ceased, told again under another key is the same event when its facts
    /// agree, and refused (CONFLICT, `extensions.fields` naming the fields
    /// that differ) when they do not.
    async fn tell_us_once(
        &self,
        ctx: &Context<'_>,
        event: LifeEventInput,
        idempotency_key: String,
    ) -> async_graphql::Result<ReceiptObject> {
        let receipt = service(ctx)?
            .tell_us_once(event, idempotency_key, principal(ctx))
            .await
            .map_err(graphql_error)?;
        Ok(receipt.into())
    }

    /// A department that pulls its feed records that it has taken in an event.
    async fn acknowledge_life_event(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        department: String,
    ) -> async_graphql::Result<NotificationObject> {
        require_department(ctx, &department)?;
        let row = service(ctx)?
            .acknowledge(event_id.0, department)
            .await
            .map_err(graphql_error)?;
        Ok(NotificationObject(row))
    }

    /// Puts one dead-lettered notification back in the delivery queue.
    async fn replay_notification(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        department: String,
    ) -> async_graphql::Result<NotificationObject> {
        let actor = require_operator(ctx, "replaying a notification")?;
        let filter = ReplayFilter::One {
            event_id: event_id.0.clone(),
            department: department.clone(),
        };
        let mut rows = service(ctx)?
            .replay(filter, actor)
            .await
            .map_err(graphql_error)?;
        rows.pop().map(NotificationObject).ok_or_else(|| {
            graphql_error(TellOnceError::NotFound(format!(
                "a dead letter for life event {} and department {department}",
                event_id.0
            )))
        })
    }

    /// Puts every dead letter (or every one for a department) back in the queue.
    async fn replay_dead_letters(
        &self,
        ctx: &Context<'_>,
        department: Option<String>,
    ) -> async_graphql::Result<Vec<NotificationObject>> {
        let actor = require_operator(ctx, "replaying dead letters")?;
        let rows = service(ctx)?
            .replay(ReplayFilter::DeadLetters { department }, actor)
            .await
            .map_err(graphql_error)?;
        Ok(rows.into_iter().map(NotificationObject).collect())
    }
}
