//! Who may do what: principals from API keys and JWTs, the hub's signed
//! identity tokens for departments, and per-principal rate limits.
//! (Authorization by the schema's directives is a stage of the gateway's
//! pipeline: `gateway::authorize`.)

pub mod api_keys;
mod authenticate;
pub mod cli;
pub mod hub_token;
pub mod jwt;
mod principal;
pub mod rate_limit;

pub use authenticate::{AuthConfig, AuthError, Authenticator, Credential};
pub use principal::{Principal, PrincipalKind, HUB_PRINCIPAL_ID};
