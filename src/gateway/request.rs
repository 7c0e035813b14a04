//! An incoming GraphQL request, as the HTTP layer hands it to the gateway.

use serde::Deserialize;
use serde_json::{Map, Value};

/// One GraphQL operation request (GraphQL-over-HTTP body or GET parameters).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLRequest {
    /// The document; `None` when the client sent none (an error, not a panic).
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub variables: Option<Map<String, Value>>,
    #[serde(default)]
    pub extensions: Option<Map<String, Value>>,
}
