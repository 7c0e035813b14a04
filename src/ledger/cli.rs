//! The `tellonce keygen` and `tellonce ledger …` commands.
//!
//! Exit codes: 0 when the ledger is sound (or the command did its job),
//! 1 when verification finds a fault (the message names the first bad
//! sequence number, or the checkpoint, and what is wrong), 2 for usage and
//! I/O errors.

use std::path::PathBuf;

use super::keys::{KeyAlgorithm, KeyError, NoteSigner, NoteVerifier};
use super::verify::{Summary, VerifyError};
use super::{export, verify, LedgerError};
use crate::config::{Config, ConfigArgs, ConfigError};
use crate::store::Store;

/// `tellonce keygen`: write a signing key and print its verifier key.
#[derive(Debug, Clone, clap::Args)]
pub struct KeygenArgs {
    /// Where to write the signing key [default: the configured ledger key file].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The key's name [default: the configured ledger origin].
    #[arg(long)]
    pub name: Option<String>,
    /// Make a witness cosigning key (C2SP cosignature/v1) instead of a log key.
    #[arg(long)]
    pub witness: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// `tellonce ledger …`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum LedgerCommand {
    /// Re-check a whole ledger: entry hashes, chain, signatures, payloads, checkpoints.
    Verify(VerifyArgs),
    /// Write the ledger as JSON lines.
    Export(ExportArgs),
    /// Issue a checkpoint of the current tree (if it grew) and print the latest signed note.
    Checkpoint(ConfigArgs),
    /// Print the hub's verifier key, with which anyone can check the ledger.
    Key(ConfigArgs),
    /// Check that an entry is in a running hub's ledger, from its signed
    /// checkpoint and tlog-tiles alone (no database, no trust in the hub).
    CheckEntry(CheckEntryArgs),
}

/// `tellonce ledger check-entry`
#[derive(Debug, Clone, clap::Args)]
pub struct CheckEntryArgs {
    /// The entry's sequence number.
    pub seq: u64,
    /// The hub, e.g. `http://127.0.0.1:4000` (its ledger is read under `/ledger`).
    #[arg(long)]
    pub url: String,
    /// The hub's verifier key (`name+id+base64`), or a file holding it
    /// [default: the configured ledger's].
    #[arg(long)]
    pub key: Option<String>,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// `tellonce ledger verify`
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// Verify an export file instead of the configured database.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// The hub's verifier key (`name+id+base64`), or a file holding it
    /// [default: the key the configured database is bound to].
    #[arg(long)]
    pub key: Option<String>,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// `tellonce ledger export`
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// The file to write.
    pub file: PathBuf,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// How a ledger command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerExit {
    Sound,
    Faulty,
}

impl LedgerExit {
    /// The process exit code.
    pub fn code(self) -> i32 {
        match self {
            LedgerExit::Sound => 0,
            LedgerExit::Faulty => 1,
        }
    }
}

/// Usage and I/O failures (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum LedgerCliError {
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("{0}")]
    Ledger(#[from] LedgerError),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Export(#[from] export::ExportError),
    #[error("{0}")]
    Read(String),
    #[error("the verifier key must be `name+id+base64` or a file holding one: {0}")]
    BadVerifierKey(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl LedgerCliError {
    /// The process exit code (always 2).
    pub fn code(&self) -> i32 {
        2
    }
}

/// Runs `tellonce keygen`.
pub fn run_keygen(args: &KeygenArgs) -> Result<(), LedgerCliError> {
    let config = &args.config.load()?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| config.ledger.origin.clone());
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| config.ledger.key_paths(&config.data_dir).0);
    let alg = if args.witness {
        KeyAlgorithm::Cosignature
    } else {
        KeyAlgorithm::Ed25519
    };
    let signer = NoteSigner::generate(&name, alg)?;
    signer.write_file(&path)?;
    eprintln!("wrote signing key {}", path.display());
    println!("{}", signer.verifier().to_vkey());
    Ok(())
}

/// Runs `tellonce ledger …`.
pub fn run(command: &LedgerCommand) -> Result<LedgerExit, LedgerCliError> {
    match command {
        LedgerCommand::Verify(args) => run_verify(args, &args.config.load()?),
        LedgerCommand::Export(args) => {
            let config = args.config.load()?;
            let store = open_existing(&config.database_url())?;
            let bar = crate::telemetry::progress_bar("entries");
            let n = export::export_store(
                &store,
                &config.ledger.origin,
                &args.file,
                crate::telemetry::reporter(&bar),
            )?;
            bar.finish_and_clear();
            eprintln!("exported {n} entries to {}", args.file.display());
            Ok(LedgerExit::Sound)
        }
        LedgerCommand::Checkpoint(args) => {
            let ledger = args.load()?.open_ledger()?;
            ledger.checkpoint_now()?;
            match ledger.latest_checkpoint()? {
                Some(cp) => print!("{}", cp.note_with_cosignatures()),
                None => eprintln!("the ledger has no checkpoint"),
            }
            Ok(LedgerExit::Sound)
        }
        LedgerCommand::CheckEntry(args) => check_entry(args),
        LedgerCommand::Key(args) => {
            println!("{}", configured_verifier(&args.load()?)?.to_vkey());
            Ok(LedgerExit::Sound)
        }
    }
}

/// The verifier key of the configured ledger: from its signing key file,
/// else the key its database is bound to.
pub fn configured_verifier(config: &Config) -> Result<NoteVerifier, LedgerCliError> {
    let (key_path, _) = config.ledger.key_paths(&config.data_dir);
    match NoteSigner::read_file(&key_path) {
        Ok(signer) => Ok(signer.verifier()),
        Err(KeyError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            let store = open_existing(&config.database_url())?;
            let bound = super::read::head(&mut *store.get()?)?.signer_vkey;
            if bound.is_empty() {
                return Err(LedgerCliError::Read(format!(
                    "no ledger key at {} and the database {} is not bound to one yet: start the hub once, or run `tellonce keygen`",
                    key_path.display(),
                    config.database_url()
                )));
            }
            Ok(NoteVerifier::from_vkey(&bound)?)
        }
        Err(error) => Err(error.into()),
    }
}

/// `Ok` unless `url` is a SQLite file that does not exist: a command acting
/// on the hub's data must not act on a new, empty database made by a typo.
pub fn require_existing(url: &str) -> Result<(), LedgerCliError> {
    if crate::store::Backend::of_url(url) == crate::store::Backend::Sqlite
        && !std::path::Path::new(url).exists()
    {
        return Err(LedgerCliError::Read(format!("no database at {url}")));
    }
    Ok(())
}

/// Opens a database that must already exist (a mistyped SQLite path must
/// not verify as an empty ledger).
fn open_existing(url: &str) -> Result<Store, LedgerCliError> {
    require_existing(url)?;
    Ok(Store::open(url)?)
}

fn parse_verifier(arg: &str) -> Result<NoteVerifier, LedgerCliError> {
    if let Ok(v) = NoteVerifier::from_vkey(arg) {
        return Ok(v);
    }
    let text = std::fs::read_to_string(arg)
        .map_err(|e| LedgerCliError::BadVerifierKey(format!("{arg}: {e}")))?;
    NoteVerifier::from_vkey(&text).map_err(|e| LedgerCliError::BadVerifierKey(e.to_string()))
}

fn run_verify(args: &VerifyArgs, config: &Config) -> Result<LedgerExit, LedgerCliError> {
    let key = match &args.key {
        Some(key) => parse_verifier(key)?,
        None if args.file.is_none() => configured_verifier(config)?,
        None => {
            return Err(LedgerCliError::Read(
                "verifying an export needs the hub's verifier key: pass --key (`tellonce ledger key` prints it on the hub)".into(),
            ))
        }
    };
    let bar = crate::telemetry::progress_bar("entries");
    let progress = crate::telemetry::reporter(&bar);
    let outcome: Result<Summary, VerifyError> = match &args.file {
        Some(file) => export::verify_export(file, &key, progress),
        None => {
            let store = open_existing(&config.database_url())?;
            verify::verify_store(&store, &key, progress)
        }
    };
    bar.finish_and_clear();
    match outcome {
        Ok(summary) => {
            println!(
                "ledger sound: {} entries, {} checkpoints, {} payloads erased, root {}",
                summary.entries,
                summary.checkpoints,
                summary.erased,
                super::encoding::encode(&summary.root)
            );
            Ok(LedgerExit::Sound)
        }
        Err(VerifyError::Fault(fault)) => {
            eprintln!("ledger verification failed at {fault}");
            Ok(LedgerExit::Faulty)
        }
        Err(VerifyError::Read(e)) => Err(LedgerCliError::Read(e)),
    }
}

/// Fetches `url` and returns its body when the answer is 200.
async fn fetch(http: &reqwest::Client, url: &str) -> Result<Option<Vec<u8>>, LedgerCliError> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| LedgerCliError::Read(format!("{url}: {e}")))?;
    if response.status() != reqwest::StatusCode::OK {
        return Ok(None);
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| LedgerCliError::Read(format!("{url}: {e}")))?;
    Ok(Some(body.to_vec()))
}

fn check_entry(args: &CheckEntryArgs) -> Result<LedgerExit, LedgerCliError> {
    use super::merkle::{leaf_hash, verify_inclusion};
    use super::tiles::{partial_width, TileId, TileKind, TileReader, TILE_WIDTH};
    let key = match &args.key {
        Some(key) => parse_verifier(key)?,
        None => configured_verifier(&args.config.load()?)?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LedgerCliError::Read(format!("cannot start the HTTP client: {e}")))?;
    let http = reqwest::Client::new();
    let base = format!("{}/ledger", args.url.trim_end_matches('/'));
    let note = runtime
        .block_on(fetch(&http, &format!("{base}/checkpoint")))?
        .ok_or_else(|| LedgerCliError::Read(format!("{base}/checkpoint serves no checkpoint")))?;
    let note = String::from_utf8_lossy(&note).into_owned();
    let checkpoint = match super::checkpoint::verify_note(&note, &key, None) {
        Ok(checkpoint) => checkpoint,
        Err(error) => {
            eprintln!("the hub's checkpoint does not verify with this key ({error}): is it the right key?");
            return Ok(LedgerExit::Faulty);
        }
    };
    let size = checkpoint.size;
    if args.seq >= size {
        eprintln!(
            "entry {} is not in the latest published checkpoint (size {size}): try again after the next checkpoint",
            args.seq
        );
        return Ok(LedgerExit::Faulty);
    }
    let tile = |id: &TileId| {
        runtime
            .block_on(fetch(&http, &format!("{base}/{}", id.path())))
            .ok()
            .flatten()
    };
    let bundle_index = args.seq / TILE_WIDTH;
    let bundle = TileId {
        kind: TileKind::Entries,
        index: bundle_index,
        partial: if (bundle_index + 1) * TILE_WIDTH <= size {
            None
        } else {
            u8::try_from(partial_width(size, 0)).ok()
        },
    };
    let at = (args.seq % TILE_WIDTH) as usize * 34;
    let entry_hash = tile(&bundle)
        .and_then(|b| b.get(at..at + 34).map(<[u8]>::to_vec))
        .filter(|e| e[..2] == [0, 32])
        .and_then(|e| super::merkle::Hash::try_from(&e[2..]).ok())
        .ok_or_else(|| {
            LedgerCliError::Read(format!("{base}/{} is missing or malformed", bundle.path()))
        })?;
    let path = TileReader::new(size, tile)
        .inclusion_path(args.seq)
        .map_err(|e| LedgerCliError::Read(e.to_string()))?;
    match verify_inclusion(
        args.seq,
        size,
        &leaf_hash(&entry_hash),
        &path,
        &checkpoint.root,
    ) {
        Ok(()) => {
            println!(
                "entry {} (entry hash {}) is in the ledger of {size} entries whose root {} is signed by {}",
                args.seq,
                super::encoding::encode(&entry_hash),
                super::encoding::encode(&checkpoint.root),
                key.to_vkey()
            );
            Ok(LedgerExit::Sound)
        }
        Err(error) => {
            eprintln!(
                "entry {} does not prove into the signed root: {error}",
                args.seq
            );
            Ok(LedgerExit::Faulty)
        }
    }
}
