//! Subscriptions through the graph: the root field is opened on the subgraph
//! that owns it, and every event it yields is completed with fields from
//! other subgraphs by the rest of the plan, as a query would be.
//!
//! Identical subscriptions share one run (see [`super::shared_subscription`]).
//!
//! A subscription holds the [`Gateway`] it started on, so a supergraph
//! reload leaves it running on the supergraph it was planned against until it
//! ends or its client leaves.

use std::sync::Arc;

use futures::stream::{self, BoxStream, StreamExt};

use super::data::{Data, Object};
use super::executor::plan::ExecNode;
use super::executor::Executor;
use super::gateway::{Admitted, Gateway};
use super::operation::OperationKind;
use super::request::GraphQLRequest;
use super::response::{GraphQLError, GraphQLResponse, ResponseBody};
use super::shared_subscription::ShareKey;
use super::RequestContext;
use crate::error_code::ErrorCode;

/// The responses of one operation over a streaming transport: one for a
/// query or mutation, one per event for a subscription. The stream ends when
/// the operation is complete.
pub type ResponseStream = BoxStream<'static, ResponseBody>;

impl Gateway {
    /// Starts an operation over a streaming transport. A request error (bad
    /// document, refused field, bad variables, a subgraph that cannot open
    /// the subscription) is `Err`, before anything is streamed.
    pub async fn subscribe(
        self: Arc<Self>,
        request: GraphQLRequest,
        context: RequestContext,
    ) -> Result<ResponseStream, GraphQLResponse> {
        let admitted = self.admit(&request, None, &context).await?;
        if admitted.prepared.kind != OperationKind::Subscription {
            let body = self.execute_to_json(request, &context).await;
            return Ok(stream::once(async move { body }).boxed());
        }
        let Some(ExecNode::Subscription { primary, .. }) = admitted
            .prepared
            .plan
            .as_ref()
            .and_then(|plan| plan.root.as_ref())
        else {
            // Only meta fields (`__typename`): one response, no subgraph.
            let Admitted {
                prepared,
                denied_errors,
                variables,
            } = admitted;
            let data = Data::Object(Object::new());
            let body = self
                .shape(&prepared, &variables, &data, denied_errors)
                .into_body();
            return Ok(stream::once(async move { body }).boxed());
        };
        let sharing = self
            .shared_subscriptions
            .as_ref()
            .map(|groups| (groups, ShareKey::of(&admitted, &context)));
        if let Some(shared) = sharing.as_ref().and_then(|(groups, key)| groups.join(key)) {
            return Ok(shared);
        }
        let Some(transport) = self.transports.get(&primary.subgraph).cloned() else {
            return Err(GraphQLResponse::request_error(GraphQLError::new(
                format!("Subgraph {} has no transport.", primary.subgraph),
                ErrorCode::SubgraphUnavailable,
            )));
        };
        let opening = Executor::new(
            &self.supergraph.internal,
            &self.transports,
            &self.health,
            &admitted.variables,
            &context,
            &self.outbound_headers,
        )
        .subscription_request(primary);
        let events = transport.subscribe(opening).await.map_err(|error| {
            self.health
                .record_failure(&primary.subgraph, &error.to_string());
            GraphQLResponse::request_error(GraphQLError::new(
                format!(
                    "Subgraph {} could not open the subscription: {error}",
                    primary.subgraph
                ),
                ErrorCode::SubgraphUnavailable,
            ))
        })?;
        let state = Arc::new((self.clone(), admitted, context));
        let open = crate::telemetry::measure::subscription_stream_opened();
        // A transport error ends the subscription: it is the last event.
        let mut failed = false;
        let responses = events
            .take_while(move |event| {
                let _counted_while_open = &open;
                let go_on = !failed;
                failed |= event.is_err();
                futures::future::ready(go_on)
            })
            .then(move |raw| {
                let state = state.clone();
                async move {
                    let (gateway, admitted, context) = &*state;
                    gateway.complete_event(admitted, context, raw).await
                }
            })
            .boxed();
        Ok(match sharing {
            Some((groups, key)) => groups.start(key, responses),
            None => responses,
        })
    }

    /// One event of a subscription, completed by the rest of its plan.
    async fn complete_event(
        &self,
        admitted: &Admitted,
        context: &RequestContext,
        raw: Result<bytes::Bytes, super::TransportError>,
    ) -> ResponseBody {
        let Some(ExecNode::Subscription { primary, rest }) = admitted
            .prepared
            .plan
            .as_ref()
            .and_then(|plan| plan.root.as_ref())
        else {
            return ResponseBody::of(&GraphQLResponse::request_error(GraphQLError::new(
                "the subscription lost its plan",
                ErrorCode::InternalServerError,
            )));
        };
        let executor = Executor::new(
            &self.supergraph.internal,
            &self.transports,
            &self.health,
            &admitted.variables,
            context,
            &self.outbound_headers,
        );
        executor.absorb_event(primary, raw);
        if let Some(rest) = rest {
            executor.run(rest).await;
        }
        let state = executor.into_state();
        let mut errors = admitted.denied_errors.clone();
        errors.extend(state.errors);
        self.shape(&admitted.prepared, &admitted.variables, &state.data, errors)
            .into_body()
    }
}
