//! Persisted documents: automatic persisted queries (APQ, as Apollo defines
//! them), trusted-document manifests (Apollo's persisted query manifest and
//! Relay's `{id: text}` map) and the allow list built on them.
//!
//! This module owns the APQ store and the loaded manifests, and turns a
//! request that names a document (`extensions.persistedQuery.sha256Hash`, or a
//! GraphQL-over-HTTP `documentId`) into one that carries its text, before the
//! gateway parses anything. It runs first so that, with the allow list on, an
//! untrusted document is refused before it costs a parse.
//!
//! - The APQ store is bounded in bytes (documents plus a fixed charge per
//!   entry), evicts the oldest first, and is read under a shared lock: a hit is
//!   one hash-map look-up and one copy of the text into the request.
//! - Client hashes are 64 hex digits, either case; anything else is refused
//!   before any hashing or look-up.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use ahash::{AHashMap, AHashSet};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::gateway::GraphQLRequest;

/// Documents larger than this are not registered through APQ.
pub const MAX_APQ_DOCUMENT_BYTES: usize = 1024 * 1024;
/// What one APQ entry costs the byte budget beyond its text (map slot, order
/// slot, `Arc` header), so that many tiny documents cannot outgrow the budget.
pub const APQ_ENTRY_OVERHEAD_BYTES: usize = 96;
/// The prefix GraphQL-over-HTTP uses for document ids that are SHA-256 hashes.
pub const SHA256_ID_PREFIX: &str = "sha256:";

/// The message Apollo clients look for to send the full query.
const NOT_FOUND_MESSAGE: &str = "PersistedQueryNotFound";
/// The message Apollo clients look for to stop sending hashes.
const NOT_SUPPORTED_MESSAGE: &str = "PersistedQueryNotSupported";
const MISMATCH_MESSAGE: &str = "provided sha does not match query";

/// `[trusted_documents]` in `tellonce.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustedDocumentsConfig {
    /// Accept automatic persisted queries (register by hash + text, then run by hash).
    pub apq: bool,
    /// Manifest files (Apollo persisted query manifest or Relay map), read at start.
    pub manifests: Vec<PathBuf>,
    /// Run only documents in the manifests: unknown text, unknown ids and APQ
    /// registration of new documents are refused.
    pub allow_list: bool,
    /// Byte budget of the APQ store.
    pub apq_cache_bytes: usize,
}

impl Default for TrustedDocumentsConfig {
    fn default() -> Self {
        TrustedDocumentsConfig {
            apq: true,
            manifests: Vec::new(),
            allow_list: false,
            apq_cache_bytes: 16 * 1024 * 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrustedDocumentError {
    #[error(
        "cannot read the trusted-document manifest {}: {source}; check trusted_documents.manifests",
        .path.display()
    )]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the trusted-document manifest {} is not JSON: {source}", .path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "the trusted-document manifest {} is not usable: {problem}; fix the file (an Apollo \
         persisted query manifest or a Relay {{\"id\": \"document\"}} map)",
        .path.display()
    )]
    Invalid { path: PathBuf, problem: String },
    #[error(
        "document id {id:?} has one body in {} and another in {}: give each document its own id",
        .first.display(), .second.display()
    )]
    Conflict {
        id: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error(
        "trusted_documents.allow_list is on but trusted_documents.manifests is empty, so every \
         request would be refused: list the manifests, or turn allow_list off"
    )]
    AllowListWithoutManifest,
}

/// Why a request's document was refused; the HTTP layer maps `code` to `extensions.code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRefusal {
    pub message: String,
    pub code: DocumentRefusalCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentRefusalCode {
    /// The hash or id names no known document (APQ: the client should send the
    /// text with the hash; message `PersistedQueryNotFound`).
    NotFound,
    /// The text sent does not hash to the hash sent (or the hash is not 64 hex digits).
    HashMismatch,
    /// The allow list is on and the document is not in a manifest.
    NotTrusted,
    /// A persisted-document form this hub does not take: APQ turned off
    /// (message `PersistedQueryNotSupported`), a malformed or unknown-version
    /// `persistedQuery`, both `documentId` and `query`, or an APQ document over
    /// [`MAX_APQ_DOCUMENT_BYTES`].
    Unsupported,
}

impl std::fmt::Display for DocumentRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl DocumentRefusal {
    fn new(code: DocumentRefusalCode, message: impl Into<String>) -> DocumentRefusal {
        DocumentRefusal {
            message: message.into(),
            code,
        }
    }

    fn not_trusted() -> DocumentRefusal {
        DocumentRefusal::new(
            DocumentRefusalCode::NotTrusted,
            "this hub runs only trusted documents, and this one is in none of its manifests: \
             add it to the client's persisted-document manifest and deploy that to the hub",
        )
    }
}

type Hash = [u8; 32];

fn sha256(text: &str) -> Hash {
    Sha256::digest(text.as_bytes()).into()
}

/// 64 hex digits (either case) as bytes; `None` for anything else, checked by length first.
fn parse_hex_hash(text: &str) -> Option<Hash> {
    if text.len() != 64 {
        return None;
    }
    let mut hash = [0u8; 32];
    hex::decode_to_slice(text, &mut hash).ok()?;
    Some(hash)
}

/// A client-supplied id, cut short for an error message.
fn shown(id: &str) -> String {
    const MAX: usize = 80;
    match id.char_indices().nth(MAX) {
        Some((end, _)) => format!("{:?}…", &id[..end]),
        None => format!("{id:?}"),
    }
}

/// The documents of one or more manifest files.
#[derive(Debug, Default)]
pub struct Manifest {
    /// Ids exactly as the manifest gives them.
    by_id: AHashMap<Box<str>, Arc<str>>,
    /// Ids that are 64 hex digits, and every body's SHA-256: for hash look-ups in either case.
    by_hash: AHashMap<Hash, Arc<str>>,
    /// Every body's SHA-256: the texts the allow list trusts.
    bodies: AHashSet<Hash>,
}

impl Manifest {
    /// How many ids the manifest holds.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The document an id names: the id as given, then as a SHA-256 hash
    /// (bare 64 hex digits or `sha256:<hex>`, either case).
    pub fn get(&self, id: &str) -> Option<&Arc<str>> {
        if let Some(body) = self.by_id.get(id) {
            return Some(body);
        }
        let hex = id.strip_prefix(SHA256_ID_PREFIX).unwrap_or(id);
        if let Some(body) = self.by_id.get(hex) {
            return Some(body);
        }
        self.by_hash.get(&parse_hex_hash(hex)?)
    }

    /// Whether a document with this text is in the manifest.
    pub fn contains_text(&self, text: &str) -> bool {
        self.bodies.contains(&sha256(text))
    }

    fn by_hash(&self, hash: &Hash) -> Option<&Arc<str>> {
        self.by_hash.get(hash)
    }

    /// Adds one document; `Err(existing body)` when the id already names another text.
    fn insert(&mut self, id: &str, body: Arc<str>) -> Result<(), Arc<str>> {
        if let Some(existing) = self.by_id.get(id) {
            return if **existing == *body {
                Ok(())
            } else {
                Err(existing.clone())
            };
        }
        let hash = sha256(&body);
        if let Some(id_hash) = parse_hex_hash(id.strip_prefix(SHA256_ID_PREFIX).unwrap_or(id)) {
            self.by_hash.entry(id_hash).or_insert_with(|| body.clone());
        }
        self.by_hash.entry(hash).or_insert_with(|| body.clone());
        self.bodies.insert(hash);
        self.by_id.insert(id.into(), body);
        Ok(())
    }
}

/// Reads a manifest file: Apollo's persisted query manifest
/// (`{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [...]}`)
/// or Relay's `{"<id>": "<document>"}`, told apart by the `format` field.
pub fn load_manifest(path: &Path) -> Result<Manifest, TrustedDocumentError> {
    let text = std::fs::read_to_string(path).map_err(|source| TrustedDocumentError::Read {
        path: path.to_owned(),
        source,
    })?;
    let value: Value =
        serde_json::from_str(&text).map_err(|source| TrustedDocumentError::Json {
            path: path.to_owned(),
            source,
        })?;
    let invalid = |problem: String| TrustedDocumentError::Invalid {
        path: path.to_owned(),
        problem,
    };
    let Value::Object(object) = value else {
        return Err(invalid(format!(
            "the top level is {}, not an object",
            kind_of(&value)
        )));
    };
    let apollo = object.get("format").is_some_and(Value::is_string)
        && (object.contains_key("operations") || object.contains_key("version"));
    if apollo {
        apollo_manifest(&object).map_err(invalid)
    } else {
        relay_manifest(object).map_err(invalid)
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn apollo_manifest(object: &Map<String, Value>) -> Result<Manifest, String> {
    const FORMAT: &str = "apollo-persisted-query-manifest";
    match object.get("format").and_then(Value::as_str) {
        Some(FORMAT) => {}
        Some(other) => return Err(format!("format is {other:?}, not {FORMAT:?}")),
        None => return Err(format!("format is missing (expected {FORMAT:?})")),
    }
    match object.get("version").and_then(Value::as_u64) {
        Some(1) => {}
        _ => return Err("version must be 1".to_owned()),
    }
    let Some(operations) = object.get("operations").and_then(Value::as_array) else {
        return Err("\"operations\" must be an array".to_owned());
    };
    let mut manifest = Manifest::default();
    for (index, operation) in operations.iter().enumerate() {
        let number = index + 1;
        let Some(operation) = operation.as_object() else {
            return Err(format!(
                "operation {number} is {}, not an object",
                kind_of(operation)
            ));
        };
        let id = match operation.get("id") {
            Some(Value::String(id)) if !id.is_empty() => id,
            Some(Value::String(_)) => return Err(format!("operation {number} has an empty id")),
            Some(other) => {
                return Err(format!(
                    "operation {number} has an id that is {}, not a string",
                    kind_of(other)
                ))
            }
            None => return Err(format!("operation {number} has no id")),
        };
        let body = match operation.get("body") {
            Some(Value::String(body)) if !body.trim().is_empty() => body,
            Some(Value::String(_)) => {
                return Err(format!(
                    "operation {number} (id {}) has an empty body",
                    shown(id)
                ))
            }
            Some(other) => {
                return Err(format!(
                    "operation {number} (id {}) has a body that is {}, not a string",
                    shown(id),
                    kind_of(other)
                ))
            }
            None => return Err(format!("operation {number} (id {}) has no body", shown(id))),
        };
        if let Some(kind) = operation.get("type") {
            if !matches!(kind.as_str(), Some("query" | "mutation" | "subscription")) {
                return Err(format!(
                    "operation {number} (id {}) has type {kind}: it must be \"query\", \
                     \"mutation\" or \"subscription\"",
                    shown(id)
                ));
            }
        }
        manifest.insert(id, Arc::from(body.as_str())).map_err(|_| {
            format!(
                "operation {number} repeats id {} with a different body",
                shown(id)
            )
        })?;
    }
    Ok(manifest)
}

fn relay_manifest(object: Map<String, Value>) -> Result<Manifest, String> {
    let mut manifest = Manifest::default();
    for (id, body) in object {
        match body {
            Value::String(body) if !body.trim().is_empty() && !id.is_empty() => {
                // A JSON object keeps one value per key, so no id repeats.
                let _ = manifest.insert(&id, Arc::from(body));
            }
            Value::String(_) if id.is_empty() => {
                return Err("a document has an empty id".to_owned())
            }
            Value::String(_) => return Err(format!("document {} is empty", shown(&id))),
            other => {
                return Err(format!(
                    "the value of {} is {}: a Relay manifest maps ids to document strings \
                     (an Apollo manifest has \"format\": \"apollo-persisted-query-manifest\")",
                    shown(&id),
                    kind_of(&other)
                ))
            }
        }
    }
    Ok(manifest)
}

/// APQ documents, oldest first out, bounded in bytes.
struct ApqStore {
    budget: usize,
    used: usize,
    documents: AHashMap<Hash, Arc<str>>,
    order: VecDeque<Hash>,
}

impl ApqStore {
    fn cost(text: &str) -> usize {
        text.len().saturating_add(APQ_ENTRY_OVERHEAD_BYTES)
    }

    fn insert(&mut self, hash: Hash, text: &str) {
        let cost = ApqStore::cost(text);
        if cost > self.budget || self.documents.contains_key(&hash) {
            return;
        }
        while self.used + cost > self.budget {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(evicted) = self.documents.remove(&oldest) {
                self.used -= ApqStore::cost(&evicted);
            }
        }
        self.documents.insert(hash, Arc::from(text));
        self.order.push_back(hash);
        self.used += cost;
    }
}

/// The APQ store and the manifests, with the allow-list rule. Shared by all requests.
pub struct TrustedDocuments {
    apq: bool,
    allow_list: bool,
    manifest: Manifest,
    store: RwLock<ApqStore>,
}

impl std::fmt::Debug for TrustedDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedDocuments")
            .field("apq", &self.apq)
            .field("allow_list", &self.allow_list)
            .field("manifest_documents", &self.manifest.len())
            .finish_non_exhaustive()
    }
}

/// What `extensions.persistedQuery` asked for.
struct PersistedQuery<'a> {
    hash: &'a str,
}

impl TrustedDocuments {
    /// Loads the manifests `config` lists (an error names the file and the problem).
    pub fn new(config: &TrustedDocumentsConfig) -> Result<Self, TrustedDocumentError> {
        if config.allow_list && config.manifests.is_empty() {
            return Err(TrustedDocumentError::AllowListWithoutManifest);
        }
        let mut manifest = Manifest::default();
        let mut origin: AHashMap<Box<str>, usize> = AHashMap::new();
        for (index, path) in config.manifests.iter().enumerate() {
            let loaded = load_manifest(path)?;
            for (id, body) in loaded.by_id {
                if manifest.insert(&id, body).is_err() {
                    let first = origin.get(&id).copied().unwrap_or(index);
                    return Err(TrustedDocumentError::Conflict {
                        id: id.into(),
                        first: config.manifests[first].clone(),
                        second: path.clone(),
                    });
                }
                origin.entry(id).or_insert(index);
            }
        }
        Ok(TrustedDocuments {
            apq: config.apq,
            allow_list: config.allow_list,
            manifest,
            store: RwLock::new(ApqStore {
                budget: config.apq_cache_bytes,
                used: 0,
                documents: AHashMap::new(),
                order: VecDeque::new(),
            }),
        })
    }

    /// The documents of the manifests.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// [`TrustedDocuments::resolve_with_document_id`] for a request with no `documentId`.
    pub fn resolve(&self, request: &mut GraphQLRequest) -> Result<(), DocumentRefusal> {
        self.resolve_with_document_id(request, None)
    }

    /// Fills `request.query` when the request names a document (by
    /// `extensions.persistedQuery.sha256Hash` or by `document_id`, the
    /// GraphQL-over-HTTP `documentId`), registers APQ documents, and enforces
    /// the allow list. A request that needs none of this is left as it is.
    pub fn resolve_with_document_id(
        &self,
        request: &mut GraphQLRequest,
        document_id: Option<&str>,
    ) -> Result<(), DocumentRefusal> {
        let persisted = persisted_query(request.extensions.as_ref())?;
        if let Some(id) = document_id {
            if persisted.is_some() || request.query.is_some() {
                return Err(DocumentRefusal::new(
                    DocumentRefusalCode::Unsupported,
                    "send a documentId alone, without query or extensions.persistedQuery",
                ));
            }
            let text = self.lookup_document_id(id).ok_or_else(|| {
                DocumentRefusal::new(
                    DocumentRefusalCode::NotFound,
                    format!(
                        "document {} is not known to this hub: deploy the client's \
                         persisted-document manifest to the hub, or send the query text",
                        shown(id)
                    ),
                )
            })?;
            request.query = Some(String::from(&*text));
            return Ok(());
        }
        match persisted {
            Some(persisted) => self.resolve_persisted(&mut request.query, persisted),
            None => match &request.query {
                Some(text) if self.allow_list && !self.manifest.contains_text(text) => {
                    Err(DocumentRefusal::not_trusted())
                }
                _ => Ok(()),
            },
        }
    }

    fn resolve_persisted(
        &self,
        query: &mut Option<String>,
        persisted: PersistedQuery<'_>,
    ) -> Result<(), DocumentRefusal> {
        if !self.apq && self.manifest.is_empty() {
            return Err(DocumentRefusal::new(
                DocumentRefusalCode::Unsupported,
                NOT_SUPPORTED_MESSAGE,
            ));
        }
        let Some(text) = query.as_deref() else {
            let text = self.lookup_persisted_hash(persisted.hash).ok_or_else(|| {
                DocumentRefusal::new(DocumentRefusalCode::NotFound, NOT_FOUND_MESSAGE)
            })?;
            *query = Some(String::from(&*text));
            return Ok(());
        };
        // Registration: the text must be the one the hash names.
        let hash = parse_hex_hash(persisted.hash)
            .filter(|hash| *hash == sha256(text))
            .ok_or_else(|| {
                DocumentRefusal::new(DocumentRefusalCode::HashMismatch, MISMATCH_MESSAGE)
            })?;
        if self.allow_list {
            return if self.manifest.bodies.contains(&hash) {
                Ok(())
            } else {
                Err(DocumentRefusal::not_trusted())
            };
        }
        if !self.apq || self.manifest.bodies.contains(&hash) {
            return Ok(());
        }
        if text.len() > MAX_APQ_DOCUMENT_BYTES {
            return Err(DocumentRefusal::new(
                DocumentRefusalCode::Unsupported,
                format!(
                    "the document is {} bytes, over the {} bytes automatic persisted queries \
                     register: send it without extensions.persistedQuery",
                    text.len(),
                    MAX_APQ_DOCUMENT_BYTES
                ),
            ));
        }
        let known = self.read_store().documents.contains_key(&hash);
        if !known {
            self.store
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(hash, text);
        }
        Ok(())
    }

    /// `extensions.persistedQuery.sha256Hash` without text: a manifest id as
    /// given, a manifest hash, then (when APQ is on and no allow list) the APQ store.
    fn lookup_persisted_hash(&self, id: &str) -> Option<Arc<str>> {
        if let Some(text) = self.manifest.by_id.get(id) {
            return Some(text.clone());
        }
        let hash = parse_hex_hash(id)?;
        if let Some(text) = self.manifest.by_hash(&hash) {
            return Some(text.clone());
        }
        self.lookup_apq(&hash)
    }

    /// A GraphQL-over-HTTP `documentId`: a manifest id (as given or `sha256:<hex>`),
    /// then, for `sha256:<hex>`, the APQ store.
    fn lookup_document_id(&self, id: &str) -> Option<Arc<str>> {
        if let Some(text) = self.manifest.get(id) {
            return Some(text.clone());
        }
        let hash = parse_hex_hash(id.strip_prefix(SHA256_ID_PREFIX)?)?;
        self.lookup_apq(&hash)
    }

    fn lookup_apq(&self, hash: &Hash) -> Option<Arc<str>> {
        if !self.apq || self.allow_list {
            return None;
        }
        self.read_store().documents.get(hash).cloned()
    }

    fn read_store(&self) -> std::sync::RwLockReadGuard<'_, ApqStore> {
        // The store is consistent between statements, so a panic elsewhere leaves it usable.
        self.store
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Reads `extensions.persistedQuery`, refusing a malformed one.
fn persisted_query(
    extensions: Option<&Map<String, Value>>,
) -> Result<Option<PersistedQuery<'_>>, DocumentRefusal> {
    let Some(value) = extensions.and_then(|e| e.get("persistedQuery")) else {
        return Ok(None);
    };
    let malformed = |problem: &str| {
        DocumentRefusal::new(
            DocumentRefusalCode::Unsupported,
            format!(
                "extensions.persistedQuery {problem}: send {{\"version\": 1, \"sha256Hash\": \
                 \"<64 hex digits>\"}}"
            ),
        )
    };
    let Some(object) = value.as_object() else {
        return Err(malformed("is not an object"));
    };
    if object.get("version").and_then(Value::as_u64) != Some(1) {
        return Err(malformed(
            "has no version 1 (the only version this hub knows)",
        ));
    }
    match object.get("sha256Hash") {
        Some(Value::String(hash)) if !hash.is_empty() => Ok(Some(PersistedQuery { hash })),
        _ => Err(malformed("has no sha256Hash string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const QUERY: &str = "query Me { me { id } }";

    fn hash_hex(text: &str) -> String {
        hex::encode(sha256(text))
    }

    fn request(query: Option<&str>, hash: Option<&str>) -> GraphQLRequest {
        let extensions = hash.map(|hash| {
            let mut extensions = Map::new();
            extensions.insert(
                "persistedQuery".to_owned(),
                json!({"version": 1, "sha256Hash": hash}),
            );
            extensions
        });
        GraphQLRequest {
            query: query.map(str::to_owned),
            extensions,
            ..GraphQLRequest::default()
        }
    }

    fn apq_only() -> TrustedDocuments {
        TrustedDocuments::new(&TrustedDocumentsConfig::default()).expect("default config")
    }

    fn write(dir: &tempfile::TempDir, name: &str, value: &Value) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, value.to_string()).expect("write manifest");
        path
    }

    fn apollo(operations: Value) -> Value {
        json!({"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations})
    }

    fn with_manifests(allow_list: bool, manifests: Vec<PathBuf>) -> TrustedDocuments {
        TrustedDocuments::new(&TrustedDocumentsConfig {
            allow_list,
            manifests,
            ..TrustedDocumentsConfig::default()
        })
        .expect("trusted documents")
    }

    fn refused(documents: &TrustedDocuments, request: &mut GraphQLRequest) -> DocumentRefusal {
        documents
            .resolve(request)
            .expect_err("the request is refused")
    }

    #[test]
    fn defaults() {
        let config: TrustedDocumentsConfig = serde_json::from_str("{}").expect("empty config");
        assert!(config.apq && !config.allow_list && config.manifests.is_empty());
        assert_eq!(config.apq_cache_bytes, 16 * 1024 * 1024);
        assert!(serde_json::from_str::<TrustedDocumentsConfig>(r#"{"apq_bytes": 1}"#).is_err());
    }

    #[test]
    fn apq_register_then_hit_by_hash_in_either_case() {
        let documents = apq_only();
        let hash = hash_hex(QUERY);
        let mut register = request(Some(QUERY), Some(&hash));
        documents.resolve(&mut register).expect("registered");
        assert_eq!(register.query.as_deref(), Some(QUERY));

        for hash in [hash.clone(), hash.to_uppercase()] {
            let mut hit = request(None, Some(&hash));
            documents.resolve(&mut hit).expect("hit");
            assert_eq!(hit.query.as_deref(), Some(QUERY));
        }
        // GraphQL-over-HTTP documentId in sha256: form finds the same document.
        let mut by_id = GraphQLRequest::default();
        documents
            .resolve_with_document_id(&mut by_id, Some(&format!("sha256:{hash}")))
            .expect("documentId");
        assert_eq!(by_id.query.as_deref(), Some(QUERY));
    }

    #[test]
    fn apq_unknown_hash_is_not_found() {
        let documents = apq_only();
        let refusal = refused(&documents, &mut request(None, Some(&hash_hex("{ other }"))));
        assert_eq!(refusal.code, DocumentRefusalCode::NotFound);
        assert_eq!(refusal.message, "PersistedQueryNotFound");
        // Not hex, wrong length: also not found, with no look-up.
        for bad in ["zz", &"g".repeat(64), &"a".repeat(63)] {
            let refusal = refused(&documents, &mut request(None, Some(bad)));
            assert_eq!(refusal.code, DocumentRefusalCode::NotFound, "{bad}");
        }
    }

    #[test]
    fn apq_mismatch_is_refused_and_not_stored() {
        let documents = apq_only();
        let wrong = hash_hex("{ other }");
        let refusal = refused(&documents, &mut request(Some(QUERY), Some(&wrong)));
        assert_eq!(refusal.code, DocumentRefusalCode::HashMismatch);
        assert_eq!(refusal.message, "provided sha does not match query");
        let refusal = refused(&documents, &mut request(Some(QUERY), Some("not-hex")));
        assert_eq!(refusal.code, DocumentRefusalCode::HashMismatch);
        let refusal = refused(&documents, &mut request(None, Some(&wrong)));
        assert_eq!(refusal.code, DocumentRefusalCode::NotFound);
    }

    #[test]
    fn malformed_or_disabled_persisted_query_is_unsupported() {
        let documents = apq_only();
        let mut bad_version = request(None, None);
        let mut extensions = Map::new();
        extensions.insert(
            "persistedQuery".to_owned(),
            json!({"version": 2, "sha256Hash": hash_hex(QUERY)}),
        );
        bad_version.extensions = Some(extensions);
        assert_eq!(
            refused(&documents, &mut bad_version).code,
            DocumentRefusalCode::Unsupported
        );

        let off = TrustedDocuments::new(&TrustedDocumentsConfig {
            apq: false,
            ..TrustedDocumentsConfig::default()
        })
        .expect("apq off");
        let refusal = refused(&off, &mut request(Some(QUERY), Some(&hash_hex(QUERY))));
        assert_eq!(refusal.code, DocumentRefusalCode::Unsupported);
        assert_eq!(refusal.message, "PersistedQueryNotSupported");
        off.resolve(&mut request(Some(QUERY), None))
            .expect("plain text is fine with APQ off");
    }

    #[test]
    fn apq_refuses_huge_documents() {
        let documents = apq_only();
        let huge = format!("{{ a }}{}", " ".repeat(MAX_APQ_DOCUMENT_BYTES));
        let refusal = refused(
            &documents,
            &mut request(Some(&huge), Some(&hash_hex(&huge))),
        );
        assert_eq!(refusal.code, DocumentRefusalCode::Unsupported);
    }

    #[test]
    fn apq_store_is_bounded_in_bytes_and_evicts_oldest() {
        let document = |i: usize| format!("query Q{i} {{ field{i:04} }}{}", " ".repeat(100));
        let one = ApqStore::cost(&document(0));
        let documents = TrustedDocuments::new(&TrustedDocumentsConfig {
            apq_cache_bytes: one * 3,
            ..TrustedDocumentsConfig::default()
        })
        .expect("config");
        for i in 0..5 {
            let text = document(i);
            documents
                .resolve(&mut request(Some(&text), Some(&hash_hex(&text))))
                .expect("registered");
            let store = documents.read_store();
            assert!(store.used <= one * 3, "within budget after {i}");
            let text_bytes: usize = store.documents.values().map(|d| d.len()).sum();
            assert!(text_bytes <= one * 3);
        }
        for (i, kept) in [(0, false), (1, false), (2, true), (3, true), (4, true)] {
            let result = documents.resolve(&mut request(None, Some(&hash_hex(&document(i)))));
            assert_eq!(result.is_ok(), kept, "document {i}");
        }
        // A document larger than the whole budget is not stored (but still runs).
        let big = format!("{{ big }}{}", " ".repeat(one * 3));
        documents
            .resolve(&mut request(Some(&big), Some(&hash_hex(&big))))
            .expect("runs");
        assert_eq!(
            refused(&documents, &mut request(None, Some(&hash_hex(&big)))).code,
            DocumentRefusalCode::NotFound
        );
        assert!(documents
            .resolve(&mut request(None, Some(&hash_hex(&document(4)))))
            .is_ok());
    }

    #[test]
    fn apollo_manifest_by_id_hash_and_document_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hash = hash_hex(QUERY);
        let path = write(
            &dir,
            "apollo.json",
            &apollo(json!([
                {"id": hash, "name": "Me", "type": "query", "body": QUERY},
                {"id": "custom-id", "name": "Other", "type": "query", "body": "{ other }"},
            ])),
        );
        let manifest = load_manifest(&path).expect("manifest");
        assert_eq!(manifest.len(), 2);
        let documents = with_manifests(false, vec![path]);

        for id in [hash.clone(), hash.to_uppercase()] {
            let mut hit = request(None, Some(&id));
            documents.resolve(&mut hit).expect("hash in the manifest");
            assert_eq!(hit.query.as_deref(), Some(QUERY));
        }
        let mut custom = request(None, Some("custom-id"));
        documents.resolve(&mut custom).expect("any-string id");
        assert_eq!(custom.query.as_deref(), Some("{ other }"));

        for id in [
            format!("sha256:{hash}"),
            hash.clone(),
            "custom-id".to_owned(),
        ] {
            let mut by_id = GraphQLRequest::default();
            documents
                .resolve_with_document_id(&mut by_id, Some(&id))
                .expect("documentId");
            assert!(by_id.query.is_some(), "{id}");
        }
        let mut unknown = GraphQLRequest::default();
        let refusal = documents
            .resolve_with_document_id(&mut unknown, Some("sha256:nope"))
            .expect_err("unknown documentId");
        assert_eq!(refusal.code, DocumentRefusalCode::NotFound);
        let mut both = request(Some(QUERY), None);
        let refusal = documents
            .resolve_with_document_id(&mut both, Some("custom-id"))
            .expect_err("documentId and query");
        assert_eq!(refusal.code, DocumentRefusalCode::Unsupported);
    }

    #[test]
    fn relay_manifest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(
            &dir,
            "relay.json",
            &json!({"a1b2c3": QUERY, "d4e5f6": "{ other }"}),
        );
        let documents = with_manifests(true, vec![path]);
        let mut by_id = GraphQLRequest::default();
        documents
            .resolve_with_document_id(&mut by_id, Some("a1b2c3"))
            .expect("relay id");
        assert_eq!(by_id.query.as_deref(), Some(QUERY));
        let mut by_hash = request(None, Some(&hash_hex("{ other }")));
        documents.resolve(&mut by_hash).expect("body hash");
        assert_eq!(by_hash.query.as_deref(), Some("{ other }"));
    }

    #[test]
    fn bad_manifests_name_the_file_and_the_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cases = [
            (
                apollo(json!([
                    {"id": "a", "body": "{ a }"},
                    {"id": "b", "body": "{ b }"},
                    {"id": "c", "name": "C"},
                ])),
                "operation 3 (id \"c\") has no body",
            ),
            (apollo(json!([{"body": "{ a }"}])), "operation 1 has no id"),
            (
                apollo(json!([{"id": "a", "body": "{ a }"}, {"id": "a", "body": "{ b }"}])),
                "operation 2 repeats id \"a\"",
            ),
            (
                json!({"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}),
                "version must be 1",
            ),
            (json!({"x": 3}), "the value of \"x\" is a number"),
            (json!([1]), "not an object"),
        ];
        for (i, (content, problem)) in cases.into_iter().enumerate() {
            let path = write(&dir, &format!("bad{i}.json"), &content);
            let message = load_manifest(&path).expect_err("bad manifest").to_string();
            assert!(message.contains(&*path.to_string_lossy()), "{message}");
            assert!(message.contains(problem), "{message}");
        }
        let missing = dir.path().join("missing.json");
        let message = load_manifest(&missing).expect_err("missing").to_string();
        assert!(message.contains("missing.json"), "{message}");
        let not_json = dir.path().join("not.json");
        std::fs::write(&not_json, "{").expect("write");
        assert!(matches!(
            load_manifest(&not_json),
            Err(TrustedDocumentError::Json { .. })
        ));
    }

    #[test]
    fn conflicting_manifests_and_allow_list_without_manifest_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = write(&dir, "one.json", &json!({"x": "{ a }"}));
        let second = write(&dir, "two.json", &json!({"x": "{ b }"}));
        let err = TrustedDocuments::new(&TrustedDocumentsConfig {
            manifests: vec![first, second],
            ..TrustedDocumentsConfig::default()
        })
        .expect_err("conflict");
        let message = err.to_string();
        assert!(
            message.contains("one.json") && message.contains("two.json"),
            "{message}"
        );
        assert!(matches!(
            TrustedDocuments::new(&TrustedDocumentsConfig {
                allow_list: true,
                ..TrustedDocumentsConfig::default()
            }),
            Err(TrustedDocumentError::AllowListWithoutManifest)
        ));
    }

    #[test]
    fn allow_list_refuses_unknown_and_accepts_manifest_text_and_ids() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(
            &dir,
            "apollo.json",
            &apollo(json!([{"id": "me", "type": "query", "body": QUERY}])),
        );
        let documents = with_manifests(true, vec![path]);

        // Manifest text, as plain query and as an APQ registration.
        documents
            .resolve(&mut request(Some(QUERY), None))
            .expect("trusted text");
        documents
            .resolve(&mut request(Some(QUERY), Some(&hash_hex(QUERY))))
            .expect("trusted text with its hash");
        // Manifest ids and hashes.
        let mut by_id = request(None, Some("me"));
        documents.resolve(&mut by_id).expect("trusted id");
        assert_eq!(by_id.query.as_deref(), Some(QUERY));
        let mut by_hash = request(None, Some(&hash_hex(QUERY)));
        documents.resolve(&mut by_hash).expect("trusted hash");

        // Unknown text, plain or registered through APQ, is refused; nothing is stored.
        let other = "{ other }";
        assert_eq!(
            refused(&documents, &mut request(Some(other), None)).code,
            DocumentRefusalCode::NotTrusted
        );
        assert_eq!(
            refused(
                &documents,
                &mut request(Some(other), Some(&hash_hex(other)))
            )
            .code,
            DocumentRefusalCode::NotTrusted
        );
        assert_eq!(
            refused(&documents, &mut request(None, Some(&hash_hex(other)))).code,
            DocumentRefusalCode::NotFound
        );
        // A near-copy of trusted text is not trusted.
        assert_eq!(
            refused(&documents, &mut request(Some(&format!("{QUERY} ")), None)).code,
            DocumentRefusalCode::NotTrusted
        );
    }
}
