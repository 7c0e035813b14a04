//! Who may do what: principals (API keys and JWTs), the hub's signed
//! identity tokens for departments, authorization directives, rate limits.

pub mod hub_token;
mod principal;
pub mod rate_limit;

pub use principal::{Principal, PrincipalKind, HUB_PRINCIPAL_ID};
