//! Executes subgraph fetches addressed to the hub subgraph in process.

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::StreamExt;

use super::HubSchema;
use crate::gateway::{SubgraphEvents, SubgraphRequest, SubgraphTransport, TransportError};

/// A [`SubgraphTransport`] that runs requests on the hub schema directly.
pub struct InProcessTransport {
    schema: HubSchema,
}

impl InProcessTransport {
    pub fn new(schema: HubSchema) -> Self {
        InProcessTransport { schema }
    }
}

/// The hub's request as async-graphql takes it, with who is asking.
fn parse(request: SubgraphRequest) -> Result<async_graphql::Request, TransportError> {
    let parsed: async_graphql::Request =
        serde_json::from_slice(&request.body).map_err(|error| TransportError::Unavailable {
            subgraph: super::HUB_SUBGRAPH_NAME.into(),
            reason: format!("request body is not a GraphQL request: {error}"),
        })?;
    let principal = request
        .principal
        .unwrap_or_else(|| std::sync::Arc::new(crate::auth::Principal::anonymous()));
    Ok(parsed.data(principal))
}

fn to_bytes(response: &async_graphql::Response) -> Result<Bytes, TransportError> {
    serde_json::to_vec(response)
        .map(Bytes::from)
        .map_err(|error| TransportError::Unavailable {
            subgraph: super::HUB_SUBGRAPH_NAME.into(),
            reason: format!("response could not be serialized: {error}"),
        })
}

impl SubgraphTransport for InProcessTransport {
    fn call(&self, request: SubgraphRequest) -> BoxFuture<'_, Result<Bytes, TransportError>> {
        Box::pin(async move {
            let response = self.schema.execute(parse(request)?).await;
            to_bytes(&response)
        })
    }

    fn subscribe(
        &self,
        request: SubgraphRequest,
    ) -> BoxFuture<'_, Result<SubgraphEvents, TransportError>> {
        Box::pin(async move {
            let request = parse(request)?;
            let events = self.schema.execute_stream(request);
            Ok(events.map(|response| to_bytes(&response)).boxed())
        })
    }

    fn in_process(&self) -> bool {
        true
    }
}
