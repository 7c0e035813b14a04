//! The hub subgraph: async-graphql objects served in process beside the departments.
pub mod ledger;
