//! The actix-web application: `/graphql`, GraphiQL, `/health`, `/ready`.
pub mod ledger;
