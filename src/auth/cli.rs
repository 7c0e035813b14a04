//! `tellonce principal add|revoke|list`: API-key principals in the
//! configured database.

use std::collections::BTreeSet;

use clap::{Args, Subcommand};

use super::api_keys::{self, ApiKeyError, NewPrincipal};
use super::principal::PrincipalKind;
use crate::config::{ConfigArgs, ConfigError};
use crate::store::{Store, StoreError};

#[derive(Subcommand)]
pub enum PrincipalCommand {
    /// Issue an API key for a new principal (the key is printed once, never stored).
    Add(AddArgs),
    /// Revoke a principal's key.
    Revoke(NameArgs),
    /// List principals (never their keys).
    List(ConfigArgs),
}

#[derive(Args)]
pub struct AddArgs {
    /// A unique name: 1 to 64 of a-z, 0-9, '-', '_', '.'; the principal's id is key:<name>.
    pub name: String,
    /// department, agency, frontend, operator, registrar or citizen.
    #[arg(long)]
    pub kind: String,
    /// A scope the principal holds (repeat for more).
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// The subgraph or agency a department or agency principal acts for.
    #[arg(long)]
    pub department: Option<String>,
    /// A citizen's National Insurance number.
    #[arg(long)]
    pub nino: Option<String>,
    #[command(flatten)]
    pub database: ConfigArgs,
}

#[derive(Args)]
pub struct NameArgs {
    pub name: String,
    #[command(flatten)]
    pub database: ConfigArgs,
}

#[derive(Debug, thiserror::Error)]
pub enum PrincipalCliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] ApiKeyError),
    #[error(
        "unknown kind {0:?}: use department, agency, frontend, operator, registrar or citizen"
    )]
    Kind(String),
}

fn open(args: &ConfigArgs) -> Result<Store, PrincipalCliError> {
    Ok(Store::open(&args.load()?.database_url())?)
}

/// Runs one command, printing what it did.
pub fn run(command: &PrincipalCommand) -> Result<(), PrincipalCliError> {
    match command {
        PrincipalCommand::Add(args) => {
            let kind = PrincipalKind::parse(&args.kind)
                .filter(|k| k.issuable())
                .ok_or_else(|| PrincipalCliError::Kind(args.kind.clone()))?;
            let store = open(&args.database)?;
            let key = api_keys::add(
                &store,
                NewPrincipal {
                    name: args.name.clone(),
                    kind,
                    scopes: args.scopes.iter().cloned().collect::<BTreeSet<_>>(),
                    department: args.department.clone(),
                    nino: args.nino.clone(),
                },
            )?;
            println!(
                "principal key:{} ({kind}) added. Its API key, shown only now:",
                args.name
            );
            println!("{key}");
            println!("Send it as `Authorization: Bearer {key}`.");
        }
        PrincipalCommand::Revoke(args) => {
            let store = open(&args.database)?;
            api_keys::revoke(&store, &args.name)?;
            println!("principal key:{} revoked", args.name);
        }
        PrincipalCommand::List(args) => {
            let store = open(args)?;
            for record in api_keys::list(&store)? {
                let state = if record.revoked_micros.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                let mut detail = Vec::new();
                if let Some(d) = &record.department {
                    detail.push(format!("department={d}"));
                }
                if record.nino.is_some() {
                    detail.push("nino=set".into());
                }
                if !record.scopes.is_empty() {
                    detail.push(format!("scopes={}", record.scopes.replace(' ', ",")));
                }
                println!(
                    "key:{}\t{}\t{}\t{}",
                    record.name,
                    record.kind,
                    state,
                    detail.join(" ")
                );
            }
        }
    }
    Ok(())
}
