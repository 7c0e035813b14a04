//! The `tellonce` command line: serve the hub, compose or check a
//! supergraph, run the demo, and operate the ledger.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use tellonce::auth::cli::{self as principal_cli, PrincipalCommand};
use tellonce::config::{Config, ConfigArgs, ConfigError};
use tellonce::gateway::compose::compose_subgraphs;
use tellonce::gateway::reload::subgraph_source;
use tellonce::gateway::Supergraph;
use tellonce::ledger::cli::{self as ledger_cli, KeygenArgs, LedgerCommand};
use tellonce::telemetry::{init_logging, LogFormat};

/// mimalloc: the hub allocates many short-lived buffers per request (JSON
/// values, subgraph bodies) from many threads, where it beats the system
/// allocator clearly in the benchmarks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A GraphQL federation hub for government.
#[derive(Parser)]
#[command(name = "tellonce", version, about)]
struct Cli {
    /// How log lines are written to standard error.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "TELLONCE_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the supergraph over HTTP.
    Serve(ServeArgs),
    /// Compose the configured subgraphs (with the hub's own) and print the supergraph SDL.
    Compose {
        /// Write the SDL here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// The configuration listing the subgraphs.
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Check that a supergraph SDL file loads and can be planned against.
    Check {
        /// The supergraph SDL file.
        supergraph: PathBuf,
    },
    /// Start the example departments and a hub over them, with no set-up.
    Demo {
        /// The hub's port; the departments take the ports after it.
        #[arg(long, default_value_t = 4000)]
        port: u16,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Write a ledger signing key and print its verifier key.
    Keygen(KeygenArgs),
    /// Verify, export or checkpoint the audit ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Add, revoke or list API-key principals.
    #[command(subcommand)]
    Principal(PrincipalCommand),
    /// Print a person's or a business's data trail as JSON, for a subject
    /// access request: every life event about them, who was told which
    /// fields and when, with inclusion proofs to the latest signed checkpoint.
    Trail {
        /// A National Insurance number or a company number.
        #[arg(long)]
        subject: String,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Erase a person's or a business's data (right to erasure): their
    /// identifiers and event data leave every table, notifications not yet
    /// delivered are cancelled, and each ledger payload about them is erased
    /// with an erasure entry; prints what was done as JSON.
    Erase {
        /// A National Insurance number or a company number.
        #[arg(long)]
        subject: String,
        /// Why (e.g. the erasure request's reference); recorded in the ledger.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Check a configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check the border agencies and places files the configuration names
    /// (the built-in ones by default) and list the agencies.
    Agencies {
        #[command(flatten)]
        config: ConfigArgs,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate FILE (unknown keys and bad values are named with their
    /// line) and the files it names (routing rules, border agencies and
    /// places), then print the configuration in force, with the TELLONCE_*
    /// environment overrides applied and passwords masked.
    Check {
        /// The configuration file (TOML).
        file: PathBuf,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Serve this supergraph SDL file (hot-reloaded on change and on SIGHUP).
    #[arg(long)]
    supergraph: Option<PathBuf>,
    /// The address to listen on, e.g. 127.0.0.1:4000.
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Exit code for input that cannot be used: an SDL that does not parse or
/// compose, a bad configuration.
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Traces are for the hub's requests: only the commands that serve them
    // export any, and they read their configuration here, once. One that
    // does not load is reported by the command itself.
    let serving = match &cli.command {
        Command::Serve(args) => Some(args.config.load()),
        Command::Demo { config, .. } => Some(config.load()),
        _ => None,
    };
    let telemetry = serving
        .as_ref()
        .and_then(|loaded| loaded.as_ref().ok())
        .map(|config| &config.telemetry);
    // Built before the async runtime: the exporter's blocking HTTP client
    // must not live inside it.
    let _traces = match init_logging(cli.log_format, telemetry) {
        Ok(traces) => traces,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    // The ledger commands are synchronous and run without the async runtime.
    let ledger_outcome = match &cli.command {
        Command::Keygen(args) => Some(ledger_cli::run_keygen(args).map(|()| 0)),
        Command::Ledger(command) => Some(ledger_cli::run(command).map(|exit| exit.code())),
        _ => None,
    };
    if let Command::Principal(command) = &cli.command {
        return match principal_cli::run(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(EXIT_BAD_INPUT)
            }
        };
    }
    if let Some(outcome) = ledger_outcome {
        return match outcome {
            Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(u8::try_from(error.code()).unwrap_or(1))
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, serving)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", error_chain(&error));
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// The error and its causes, each said once (our messages often quote their cause).
fn error_chain(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    message
}

/// Runs an async command; `serving` is the configuration `main` loaded for
/// `serve` and `demo`.
async fn run(cli: Cli, serving: Option<Result<Config, ConfigError>>) -> anyhow::Result<ExitCode> {
    let loaded = |args: &ConfigArgs| serving.unwrap_or_else(|| args.load());
    match cli.command {
        Command::Serve(args) => {
            let config = loaded(&args.config)?;
            serve(args, config).await
        }
        Command::Compose { config, output } => compose(config.load()?, output.as_deref()).await,
        Command::Check { supergraph } => check(&supergraph),
        Command::Demo { port, config } => tellonce::demo::run(port, loaded(&config)?)
            .await
            .map(|()| ExitCode::SUCCESS)
            .context("the demo stopped"),
        Command::Agencies { config } => agencies(&config.load()?),
        Command::Config(ConfigCommand::Check { file }) => check_config(&file),
        Command::Trail { subject, config } => data_trail(config.load()?, &subject).await,
        Command::Erase {
            subject,
            reason,
            config,
        } => erase(config.load()?, &subject, reason).await,
        Command::Keygen(_) | Command::Ledger(_) | Command::Principal(_) => Ok(ExitCode::SUCCESS),
    }
}

/// Opens the configured ledger off the runtime, refusing a SQLite path that
/// does not exist (a typo must not act on a new, empty database).
async fn existing_ledger(
    config: tellonce::config::Config,
) -> anyhow::Result<tellonce::ledger::Ledger> {
    ledger_cli::require_existing(&config.database_url()).map_err(|error| {
        anyhow::anyhow!(
            "{error}: name the hub's database with --config, --database or TELLONCE_DATABASE_URL"
        )
    })?;
    Ok(tokio::task::spawn_blocking(move || config.open_ledger()).await??)
}

/// `tellonce erase`.
async fn erase(
    config: tellonce::config::Config,
    subject: &str,
    reason: String,
) -> anyhow::Result<ExitCode> {
    use tellonce::tellonce::erasure::erase_subject;
    let subject = tellonce::tellonce::trail::subject_of(subject)?;
    let ledger = existing_ledger(config).await?;
    let actor = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "operator".into())
    );
    let report = tokio::task::spawn_blocking(move || {
        let bar = tellonce::telemetry::progress_bar("ledger payloads erased");
        let report = erase_subject(
            &ledger,
            &subject,
            &actor,
            &reason,
            tellonce::telemetry::reporter(&bar),
        );
        bar.finish_and_clear();
        report
    })
    .await??;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// `tellonce trail`: every page of the subject's trail, as one JSON document.
async fn data_trail(config: tellonce::config::Config, subject: &str) -> anyhow::Result<ExitCode> {
    use tellonce::tellonce::trail::{subject_of, trail};
    let subject = subject_of(subject)?;
    let ledger = existing_ledger(config).await?;
    let document = tokio::task::spawn_blocking(move || -> anyhow::Result<serde_json::Value> {
        let (mut events, mut after) = (Vec::new(), None);
        let spinner = tellonce::telemetry::spinner("reading the trail");
        loop {
            let page = trail(&ledger, &subject, after, tellonce::ledger::read::MAX_PAGE)?;
            after = page.items.last().map(|i| i.ledger_seq);
            events.extend(page.items);
            spinner.set_message(format!("{} events read", events.len()));
            if !page.has_next_page {
                spinner.finish_and_clear();
                return Ok(serde_json::json!({
                    "subject": { "scheme": subject.scheme, "value": subject.value },
                    "events": events,
                    "checkpoint": page.checkpoint,
                }));
            }
        }
    })
    .await??;
    println!("{}", serde_json::to_string_pretty(&document)?);
    Ok(ExitCode::SUCCESS)
}

fn check_config(file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(Some(file))?;
    if let Some(dir) = &config.tellonce.routes_dir {
        tellonce::tellonce::routes::load_rules(dir)
            .with_context(|| format!("[tellonce] routes_dir = {}", dir.display()))?;
    }
    tellonce::border::load_data(&config.border).context("[border]")?;
    let printed = config
        .effective_toml()
        .context("cannot print the configuration")?;
    print!("{printed}");
    eprintln!("{}: the configuration is valid", file.display());
    Ok(ExitCode::SUCCESS)
}

fn agencies(config: &tellonce::config::Config) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let (_, registry, _) = tellonce::border::load_data(&config.border)?;
    let connected = |agency: &tellonce::border::Agency| {
        agency
            .subgraph
            .as_ref()
            .is_some_and(|s| config.border.subgraphs.contains_key(s))
    };
    let mut out = std::io::stdout().lock();
    for agency in registry.all() {
        let state = if connected(agency) {
            "connected"
        } else {
            "not connected"
        };
        let _ = writeln!(out, "{:<42} {:<14} {}", agency.id, state, agency.name);
    }
    let _ = writeln!(
        out,
        "{} agencies ({} connected), {} trader flags: the files are valid",
        registry.all().len(),
        registry.all().iter().filter(|a| connected(a)).count(),
        registry.trader_flags().len()
    );
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: ServeArgs, mut config: Config) -> anyhow::Result<ExitCode> {
    if let Some(supergraph) = args.supergraph {
        config.supergraph = Some(supergraph);
    }
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let signals = tellonce::server::ShutdownSignals::install()
        .context("cannot listen for SIGINT and SIGTERM")?;
    let hub = tellonce::server::start(&config).await?;
    {
        // Whoever started us may stop reading after the first line: a
        // closed pipe must not stop the hub.
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "tellonce hub serving {}", hub.graphql_url());
        let _ = writeln!(
            out,
            "ledger verifier key: {} (tiles and checkpoint under {}/ledger)",
            hub.ledger.verifier().to_vkey(),
            hub.base_url()
        );
        let _ = out.flush();
    }
    hub.serve_until(signals)
        .await
        .context("the HTTP server failed")?;
    Ok(ExitCode::SUCCESS)
}

async fn compose(config: Config, output: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    let mut sources = Vec::new();
    let spinner = tellonce::telemetry::spinner("");
    for subgraph in &config.subgraphs {
        spinner.set_message(format!("reading the schema of {}", subgraph.name));
        sources.push(subgraph_source(subgraph).await?);
    }
    sources.push(tellonce::server::hub_subgraph_source());
    spinner.set_message(format!("composing {} subgraphs", sources.len()));
    let composition = compose_subgraphs(&sources);
    spinner.finish_and_clear();
    let composition = composition?;
    for warning in &composition.warnings {
        eprintln!("warning: {warning}");
    }
    Supergraph::parse(&composition.supergraph_sdl)
        .context("the composed supergraph cannot be planned against")?;
    match output {
        Some(path) => std::fs::write(path, &composition.supergraph_sdl)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{}", composition.supergraph_sdl),
    }
    Ok(ExitCode::SUCCESS)
}

fn check(path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let sdl = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the supergraph file {}", path.display()))?;
    let supergraph = Supergraph::parse(&sdl)
        .with_context(|| format!("{} is not a usable supergraph", path.display()))?;
    println!(
        "{}: supergraph {} with {} subgraph(s): {}",
        path.display(),
        supergraph.hash(),
        supergraph.subgraphs().len(),
        supergraph
            .subgraphs()
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}
