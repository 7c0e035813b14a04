//! The `tellonce` command line.

use clap::{Parser, Subcommand};
use tellonce::config::Config;
use tellonce::ledger::cli::{self, KeygenArgs, LedgerCommand};

#[derive(Parser)]
#[command(
    name = "tellonce",
    version,
    about = "A GraphQL federation hub for government"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a ledger signing key and print its verifier key.
    Keygen(KeygenArgs),
    /// Verify, export or checkpoint the audit ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::default();
    let code = match &cli.command {
        Command::Keygen(args) => cli::run_keygen(args, &config).map(|()| 0),
        Command::Ledger(command) => cli::run(command, &config).map(|exit| exit.code()),
    };
    match code {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.code())
        }
    }
}
