//! The GraphQL response the gateway produces: `data`, `errors`, `extensions`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error_code::ErrorCode;

/// One step of an error's `path`: a response key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// A GraphQL error as the spec shapes it.
#[derive(Debug, Clone, Serialize)]
pub struct GraphQLError {
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<PathSegment>>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
}

impl GraphQLError {
    /// An error with a message and an `extensions.code`.
    pub fn new(message: impl Into<String>, code: ErrorCode) -> Self {
        let mut extensions = Map::new();
        extensions.insert("code".into(), Value::String(code.as_str().into()));
        GraphQLError {
            message: message.into(),
            locations: Vec::new(),
            path: None,
            extensions,
        }
    }

    pub fn with_path(mut self, path: Vec<PathSegment>) -> Self {
        self.path = Some(path);
        self
    }

    /// The `extensions.code`, if any.
    pub fn code(&self) -> Option<&str> {
        self.extensions.get("code").and_then(Value::as_str)
    }
}

/// What the gateway answers. `data` absent means the request never reached
/// execution (a request error); `Some(Value::Null)` means execution nulled it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GraphQLResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<GraphQLError>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
}

impl GraphQLResponse {
    /// A request error: no `data`, one error.
    pub fn request_error(error: GraphQLError) -> Self {
        GraphQLResponse {
            data: None,
            errors: vec![error],
            extensions: Map::new(),
        }
    }

    /// True when the request failed before execution (no `data` entry).
    pub fn is_request_error(&self) -> bool {
        self.data.is_none()
    }
}

/// A response as the client receives it: its JSON text.
#[derive(Debug, Clone)]
pub struct ResponseBody {
    pub json: Vec<u8>,
    /// The request failed before execution (no `data` entry).
    pub is_request_error: bool,
}

impl ResponseBody {
    /// The JSON text of `response`.
    pub fn of(response: &GraphQLResponse) -> ResponseBody {
        ResponseBody {
            json: to_json(response),
            is_request_error: response.is_request_error(),
        }
    }
}

/// The JSON text of any response type (one response or a batch of them).
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Response types hold only strings, numbers and JSON values: they always serialize.
    serde_json::to_vec(value).unwrap_or_else(|_| br#"{"errors":[{"message":"the response could not be serialized","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}"#.to_vec())
}
