//! The one list of `extensions.code` values that tellonce puts on GraphQL errors.
//!
//! Every error a client sees carries one of these codes; README.md documents them.

use std::fmt;

/// A machine-readable error class, rendered as `extensions.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    BadUserInput,
    GraphqlParseFailed,
    GraphqlValidationFailed,
    Unauthenticated,
    Forbidden,
    UnauthorizedFieldOrType,
    PersistedQueryNotFound,
    NotFound,
    Conflict,
    RateLimited,
    QueryTooComplex,
    SubgraphUnavailable,
    SubgraphError,
    Timeout,
    InternalServerError,
}

impl ErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            ErrorCode::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::UnauthorizedFieldOrType => "UNAUTHORIZED_FIELD_OR_TYPE",
            ErrorCode::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::QueryTooComplex => "QUERY_TOO_COMPLEX",
            ErrorCode::SubgraphUnavailable => "SUBGRAPH_UNAVAILABLE",
            ErrorCode::SubgraphError => "SUBGRAPH_ERROR",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::InternalServerError => "INTERNAL_SERVER_ERROR",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
