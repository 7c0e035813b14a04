//! Executes subgraph fetches addressed to the hub subgraph in process.

use bytes::Bytes;
use futures::future::BoxFuture;

use super::HubSchema;
use crate::gateway::{SubgraphRequest, SubgraphTransport, TransportError};

/// A [`SubgraphTransport`] that runs requests on the hub schema directly.
pub struct InProcessTransport {
    schema: HubSchema,
}

impl InProcessTransport {
    pub fn new(schema: HubSchema) -> Self {
        InProcessTransport { schema }
    }
}

impl SubgraphTransport for InProcessTransport {
    fn call(&self, request: SubgraphRequest) -> BoxFuture<'_, Result<Bytes, TransportError>> {
        Box::pin(async move {
            let mut parsed: async_graphql::Request = serde_json::from_slice(&request.body)
                .map_err(|error| TransportError::Unavailable {
                    subgraph: super::HUB_SUBGRAPH_NAME.into(),
                    reason: format!("request body is not a GraphQL request: {error}"),
                })?;
            let principal = request
                .principal
                .unwrap_or_else(|| std::sync::Arc::new(crate::auth::Principal::anonymous()));
            parsed = parsed.data(principal);
            let response = self.schema.execute(parsed).await;
            let body =
                serde_json::to_vec(&response).map_err(|error| TransportError::Unavailable {
                    subgraph: super::HUB_SUBGRAPH_NAME.into(),
                    reason: format!("response could not be serialized: {error}"),
                })?;
            Ok(Bytes::from(body))
        })
    }

    fn in_process(&self) -> bool {
        true
    }
}
