//! The signed, hash-chained, Merkle-proved audit ledger.
//!
//! Every change the hub makes becomes an [`Entry`]: a header (sequence,
//! time, kind, actor, keyed subject hash, payload hash, previous entry hash)
//! whose SHA-256 over a canonical encoding ([`entry`]) is the entry hash,
//! signed by the hub (the [`Receipt`]), and a JSON payload stored apart so it
//! can be erased without breaking anything. Entry hashes are the leaves of an
//! RFC 6962 Merkle tree ([`merkle`]) whose perfect subtree hashes are stored,
//! so proofs take O(log n) reads; checkpoints are C2SP signed notes
//! ([`checkpoint`]) with optional witness cosignatures.
//!
//! [`Ledger`] is the handle the rest of the hub uses: [`Ledger::append`]
//! (group-committed under load), [`Ledger::append_in`] inside a caller's own
//! transaction, reads and proofs ([`read`]), erasure, and the offline
//! verifier ([`verify`]) behind `tellonce ledger verify`.

pub mod append;
pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod encoding;
pub mod entry;
pub mod export;
pub mod keys;
pub mod merkle;
pub mod read;
pub mod rows;
pub mod subject;
pub mod tiles;
pub mod verify;
pub mod witness;

use std::path::Path;
use std::sync::Arc;

pub use append::GroupCommit;
pub use entry::{Entry, EntryError, EntryHeader, NewEntry, Receipt, SubjectHash};
pub use keys::{KeyAlgorithm, KeyError, NoteSigner, NoteVerifier};
pub use merkle::{Hash, ProofError};
pub use read::{ConsistencyProof, EntryFilter, EntryPage, InclusionProof, StoredCheckpoint};
pub use subject::SubjectKey;

use crate::store::{Store, StoreError};
pub use config::LedgerConfig;

/// Everything that can go wrong in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Entry(#[from] EntryError),
    #[error("tree size {requested} is beyond the ledger's size {size}")]
    BeyondTreeSize { requested: u64, size: u64 },
    #[error(transparent)]
    Proof(#[from] ProofError),
    #[error("no ledger entry {0}")]
    NotFound(u64),
    #[error("the payload of entry {0} is already erased")]
    AlreadyErased(u64),
    #[error("entry {0} records an erasure and cannot itself be erased")]
    ErasureNotErasable(u64),
    #[error("the erasure reason must be 1 to 1024 characters")]
    BadReason,
    #[error("{0}")]
    Key(String),
    #[error("the ledger has {size} entries but its key file {path} is missing; restore the key (a new key would not verify the existing entries)")]
    KeyMissing { path: String, size: u64 },
    #[error("the key in {path} is not the key that signed this ledger ({expected})")]
    KeyMismatch { path: String, expected: String },
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] checkpoint::CheckpointError),
    #[error("the stored ledger head is corrupt: {0}")]
    CorruptHead(&'static str),
    #[error("{queued} ledger entries are waiting to be committed (limit max_queued_entries = {limit}); retry shortly")]
    Busy { queued: usize, limit: usize },
    #[error("the ledger commit that held these entries failed unexpectedly; nothing was recorded, retry")]
    CommitAborted,
    #[error("no checkpoint is published yet to prove against: name a tree size")]
    NoCheckpoint,
    #[error("storage: {0}")]
    Storage(String),
}

impl From<StoreError> for LedgerError {
    fn from(e: StoreError) -> Self {
        LedgerError::Storage(e.to_string())
    }
}

impl From<diesel::result::Error> for LedgerError {
    fn from(e: diesel::result::Error) -> Self {
        LedgerError::Storage(e.to_string())
    }
}

impl From<KeyError> for LedgerError {
    fn from(e: KeyError) -> Self {
        LedgerError::Key(e.to_string())
    }
}

/// Ledger settings (see `LedgerConfig`).
#[derive(Debug, Clone)]
pub struct LedgerOptions {
    /// Checkpoint origin line; also the signing key's name.
    pub origin: String,
    pub checkpoint_every_entries: u64,
    pub checkpoint_every_seconds: u64,
    pub max_payload_bytes: usize,
    /// Most entries waiting for a group commit (see `LedgerConfig`).
    pub max_queued_entries: usize,
    /// Witness keys (`cosignature/v1` vkeys) whose cosignatures are accepted.
    pub witnesses: Vec<NoteVerifier>,
    /// Cosignatures a checkpoint needs before it is published.
    pub witness_quorum: usize,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        let c = LedgerConfig::default();
        LedgerOptions {
            origin: c.origin,
            checkpoint_every_entries: c.checkpoint_every_entries,
            checkpoint_every_seconds: c.checkpoint_every_seconds,
            max_payload_bytes: c.max_payload_bytes,
            max_queued_entries: c.max_queued_entries,
            witnesses: Vec::new(),
            witness_quorum: 0,
        }
    }
}

/// The ledger handle: store, keys, options, group commit queue.
pub struct Ledger {
    store: Store,
    signer: NoteSigner,
    verifier: NoteVerifier,
    subject_key: SubjectKey,
    options: LedgerOptions,
    group: GroupCommit,
    node_cache: read::NodeCache,
    /// The largest ledger size seen (see `read::size_covering`).
    known_size: std::sync::atomic::AtomicU64,
    /// Rung after every write (entries or a checkpoint), so that readers
    /// following the ledger (`events::LedgerTail`) look at once. A write
    /// inside a caller's transaction rings before its commit: readers that
    /// find nothing new look again shortly.
    written: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("store", &self.store)
            .field("origin", &self.options.origin)
            .finish()
    }
}

impl Ledger {
    /// Opens the configured ledger: the store (migrations run), the signing
    /// key and the subject key. On an empty ledger missing key files are
    /// created; on a ledger with entries a missing key is an error.
    pub fn open(
        settings: &LedgerConfig,
        database_url: &str,
        data_dir: &Path,
    ) -> Result<Ledger, LedgerError> {
        let store = Store::open(database_url)?;
        let mut witnesses = Vec::new();
        for w in &settings.witness_keys {
            witnesses.push(NoteVerifier::from_vkey(w)?);
        }
        for w in &settings.witnesses {
            witnesses.push(NoteVerifier::from_vkey(&w.vkey)?);
        }
        let witness_quorum = settings.witness_quorum.unwrap_or(settings.witnesses.len());
        if witness_quorum > witnesses.len() {
            return Err(LedgerError::Key(format!(
                "ledger.witness_quorum is {witness_quorum} but only {} witness keys are configured",
                witnesses.len()
            )));
        }
        let options = LedgerOptions {
            origin: settings.origin.clone(),
            checkpoint_every_entries: settings.checkpoint_every_entries,
            checkpoint_every_seconds: settings.checkpoint_every_seconds,
            max_payload_bytes: settings.max_payload_bytes,
            max_queued_entries: settings.max_queued_entries,
            witnesses,
            witness_quorum,
        };
        let (key_path, subject_path) = settings.key_paths(data_dir);
        let size = read::head(&mut *store.get()?)?.size as u64;
        let signer = match NoteSigner::read_file(&key_path) {
            Ok(s) => s,
            Err(KeyError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound && size == 0 =>
            {
                let s = NoteSigner::generate(&options.origin, KeyAlgorithm::Ed25519)?;
                s.write_file(&key_path)?;
                s
            }
            Err(KeyError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Err(LedgerError::KeyMissing {
                    path: key_path.display().to_string(),
                    size,
                })
            }
            Err(e) => return Err(e.into()),
        };
        let subject_key = match SubjectKey::read_file(&subject_path) {
            Ok(k) => k,
            Err(KeyError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound && size == 0 =>
            {
                let k = SubjectKey::generate()?;
                k.write_file(&subject_path)?;
                k
            }
            Err(KeyError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Err(LedgerError::KeyMissing {
                    path: subject_path.display().to_string(),
                    size,
                })
            }
            Err(e) => return Err(e.into()),
        };
        Ledger::new(store, signer, subject_key, options).map_err(|e| match e {
            LedgerError::KeyMismatch { expected, .. } => LedgerError::KeyMismatch {
                path: key_path.display().to_string(),
                expected,
            },
            e => e,
        })
    }

    /// A ledger over an open store with the given keys. Records the signer's
    /// verifier key in the store on first use and refuses a different key
    /// afterwards.
    pub fn new(
        store: Store,
        signer: NoteSigner,
        subject_key: SubjectKey,
        options: LedgerOptions,
    ) -> Result<Ledger, LedgerError> {
        let verifier = signer.verifier();
        append::bind_signer(&mut *store.get()?, &signer, &options.origin)?;
        Ok(Ledger {
            store,
            signer,
            verifier,
            subject_key,
            options,
            group: GroupCommit::default(),
            node_cache: read::NodeCache::default(),
            known_size: std::sync::atomic::AtomicU64::new(0),
            written: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// Notified after each write to the ledger (see the field's comment).
    pub fn written(&self) -> &Arc<tokio::sync::Notify> {
        &self.written
    }

    /// The store the ledger lives in (for callers' own transactions).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The hub's verifier key (signed-note vkey form via `to_vkey`).
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// The settings in force.
    pub fn options(&self) -> &LedgerOptions {
        &self.options
    }

    /// The keyed hash to record as the subject for a personal identifier.
    pub fn subject_hash(&self, identifier: &str) -> SubjectHash {
        self.subject_key.hash(identifier)
    }
}
