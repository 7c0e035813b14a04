//! Errors a department answers with, and how they become GraphQL errors with `extensions.code`.

use crate::identifiers::InvalidIdentifier;
use async_graphql::ErrorExtensions;

/// Why a department refused a request. Nothing is changed when one of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DepartmentError {
    /// An identifier argument broke its format or check-digit rule.
    #[error("invalid value for \"{field}\": {source}")]
    InvalidIdentifier {
        field: String,
        #[source]
        source: InvalidIdentifier,
    },
    /// Any other argument that breaks a business rule (dates, names, keys).
    #[error("invalid value for \"{field}\": {reason}")]
    InvalidArgument {
        field: String,
        rule: &'static str,
        reason: String,
    },
    /// The idempotency key was already used for a different request.
    #[error("idempotency key \"{key}\" was already used for a different request")]
    IdempotencyKeyReused { key: String },
    /// The request contradicts a record the department already holds.
    #[error("{0}")]
    Conflict(String),
    /// The record asked for does not exist.
    #[error("{0}")]
    NotFound(String),
}

impl DepartmentError {
    /// An identifier error for the argument (or input field path) `field`.
    pub fn identifier(field: impl Into<String>, source: InvalidIdentifier) -> Self {
        DepartmentError::InvalidIdentifier {
            field: field.into(),
            source,
        }
    }

    /// A business-rule error for the argument (or input field path) `field`.
    pub fn argument(
        field: impl Into<String>,
        rule: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        DepartmentError::InvalidArgument {
            field: field.into(),
            rule,
            reason: reason.into(),
        }
    }

    /// The `extensions.code` this error carries.
    pub fn code(&self) -> &'static str {
        match self {
            DepartmentError::InvalidIdentifier { .. } | DepartmentError::InvalidArgument { .. } => {
                "BAD_USER_INPUT"
            }
            DepartmentError::IdempotencyKeyReused { .. } | DepartmentError::Conflict(_) => {
                "CONFLICT"
            }
            DepartmentError::NotFound(_) => "NOT_FOUND",
        }
    }
}

impl ErrorExtensions for DepartmentError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                DepartmentError::InvalidIdentifier { field, source } => {
                    ext.set("field", field.as_str());
                    ext.set("rule", source.rule.code());
                }
                DepartmentError::InvalidArgument { field, rule, .. } => {
                    ext.set("field", field.as_str());
                    ext.set("rule", *rule);
                }
                DepartmentError::IdempotencyKeyReused { .. }
                | DepartmentError::Conflict(_)
                | DepartmentError::NotFound(_) => {}
            }
        })
    }
}

/// Turns a department result into a GraphQL result that keeps `extensions`.
///
/// (async-graphql converts any `Display` error with `?`, which would drop the code;
/// resolvers call `.for_graphql()` instead.)
pub trait ForGraphql<T> {
    fn for_graphql(self) -> async_graphql::Result<T>;
}

impl<T> ForGraphql<T> for Result<T, DepartmentError> {
    fn for_graphql(self) -> async_graphql::Result<T> {
        self.map_err(|error| error.extend())
    }
}

/// Parse an identifier argument, naming the argument in the error.
pub fn parse_argument(
    field: &str,
    input: &str,
    parse: fn(&str) -> Result<String, InvalidIdentifier>,
) -> Result<String, DepartmentError> {
    parse(input).map_err(|source| DepartmentError::identifier(field, source))
}
