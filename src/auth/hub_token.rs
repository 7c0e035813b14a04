//! The hub's identity towards departments: an Ed25519 key whose public half is
//! served as a JWKS (`/.well-known/jwks.json`), and the short-lived JWTs (EdDSA)
//! the hub sends each department subgraph in [`HUB_TOKEN_HEADER`] to say who is
//! asking. The client's own `Authorization` header is never forwarded.
//!
//! A token names one principal and one audience (the subgraph name) and lives
//! [`TOKEN_LIFETIME_SECS`]. Tokens are cached per (principal, audience) and
//! reused until [`REUSE_MARGIN_SECS`] before they expire, so identical requests
//! from one principal carry byte-identical headers and outbound deduplication
//! (which keys on forwarded headers) still joins them.
//!
//! Departments verify these tokens with the JWKS alone (see the
//! `tellonce-departments` crate's `hub_identity` module); they do not depend on
//! this crate.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD as BASE64URL};
use base64::Engine;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Principal;

/// The request header the hub sends its token in, to every department subgraph.
pub const HUB_TOKEN_HEADER: &str = "x-tellonce-identity";

/// How long a token is valid for, from when it is signed.
pub const TOKEN_LIFETIME_SECS: u64 = 300;

/// A cached token is replaced once it has less than this left to live, so a
/// department never receives a token about to expire in transit.
pub const REUSE_MARGIN_SECS: u64 = 60;

/// At most this many (principal, audience) tokens are cached; when the cache is
/// full, expired ones are dropped, and if none had expired it is emptied.
pub const TOKEN_CACHE_CAPACITY: usize = 10_000;

/// The PKCS#8 v1 `PrivateKeyInfo` prefix of an Ed25519 key (RFC 8410): the
/// 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Why the hub's identity key cannot be loaded, created or used.
#[derive(Debug, thiserror::Error)]
pub enum HubTokenError {
    #[error(
        "cannot read the hub identity key file {}: {source}; check that the hub may read it, \
         or remove it to create a new key (departments then fetch the new JWKS)",
        path.display()
    )]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "cannot write the hub identity key file {}: {source}; check that its folder is writable \
         by the hub, or configure another path for it",
        path.display()
    )]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "the hub identity key file {} is not base64 text: {source}; restore it from a backup, \
         or remove it to create a new key",
        path.display()
    )]
    NotBase64 {
        path: PathBuf,
        #[source]
        source: base64::DecodeError,
    },
    #[error(
        "the hub identity key file {} holds {length} bytes, not a 32-byte Ed25519 seed; restore \
         it from a backup, or remove it to create a new key",
        path.display()
    )]
    WrongLength { path: PathBuf, length: usize },
    #[error("the system random source failed while creating the hub identity key: {0}")]
    Random(#[source] io::Error),
    #[error("the hub identity key cannot sign tokens: {0}")]
    Signing(#[from] jsonwebtoken::errors::Error),
}

/// What a hub token says. `aud` is the department's subgraph name; `kind` is a
/// [`PrincipalKind`](super::PrincipalKind) as text (`hub` for tell-us-once delivery).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubClaims {
    pub iss: String,
    /// The principal's id (e.g. `hub:delivery`, `key:7f3a…`, `anonymous`).
    pub sub: String,
    pub aud: String,
    pub kind: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    pub iat: u64,
    pub exp: u64,
}

struct CachedToken {
    token: Arc<str>,
    /// The claims that depend on the principal, so a principal whose kind,
    /// scopes or department changed under the same id is not sent a stale token.
    kind: &'static str,
    scopes: Vec<String>,
    department: Option<String>,
    exp: u64,
}

impl CachedToken {
    fn fits(&self, principal: &Principal, now: u64) -> bool {
        now + REUSE_MARGIN_SECS < self.exp
            && self.kind == principal.kind.as_str()
            && self.department == principal.department
            && self.scopes.len() == principal.scopes.len()
            && self
                .scopes
                .iter()
                .zip(&principal.scopes)
                .all(|(a, b)| a == b)
    }
}

/// Cached tokens by audience, then principal id (so a hit borrows both as `&str`).
#[derive(Default)]
struct TokenCache {
    by_audience: HashMap<String, HashMap<String, CachedToken>>,
    len: usize,
}

impl TokenCache {
    fn get(&self, principal: &Principal, audience: &str, now: u64) -> Option<Arc<str>> {
        let cached = self.by_audience.get(audience)?.get(&principal.id)?;
        cached.fits(principal, now).then(|| cached.token.clone())
    }

    fn insert(&mut self, principal_id: &str, audience: &str, cached: CachedToken, now: u64) {
        if self.len >= TOKEN_CACHE_CAPACITY {
            self.evict(now);
        }
        let tokens = self.by_audience.entry(audience.to_string()).or_default();
        if tokens.insert(principal_id.to_string(), cached).is_none() {
            self.len += 1;
        }
    }

    /// Drop the tokens no longer reused; if that frees nothing, drop them all.
    fn evict(&mut self, now: u64) {
        for tokens in self.by_audience.values_mut() {
            tokens.retain(|_, cached| now + REUSE_MARGIN_SECS < cached.exp);
        }
        self.by_audience.retain(|_, tokens| !tokens.is_empty());
        self.len = self.by_audience.values().map(HashMap::len).sum();
        if self.len >= TOKEN_CACHE_CAPACITY {
            self.by_audience.clear();
            self.len = 0;
        }
    }
}

/// The hub's Ed25519 identity key, its key id and issuer, and the cache of the
/// tokens it has signed.
pub struct HubIdentity {
    issuer: String,
    kid: String,
    public_key: [u8; 32],
    encoding_key: EncodingKey,
    header: Header,
    cache: Mutex<TokenCache>,
}

impl fmt::Debug for HubIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubIdentity")
            .field("issuer", &self.issuer)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl HubIdentity {
    /// The identity whose 32-byte seed is stored as base64 text in `path`,
    /// creating a random one (file mode 0600 on Unix, folder created) when the
    /// file does not exist. An existing file is never replaced.
    pub fn load_or_create(path: &Path, issuer: &str) -> Result<HubIdentity, HubTokenError> {
        match std::fs::read_to_string(path) {
            Ok(text) => HubIdentity::from_seed(&parse_seed(path, &text)?, issuer),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                let seed = random_seed()?;
                match write_seed(path, &seed) {
                    Ok(()) => HubIdentity::from_seed(&seed, issuer),
                    // Another process created it first: use theirs.
                    Err(HubTokenError::Write { source, .. })
                        if source.kind() == io::ErrorKind::AlreadyExists =>
                    {
                        let text = std::fs::read_to_string(path).map_err(|source| {
                            HubTokenError::Read {
                                path: path.to_path_buf(),
                                source,
                            }
                        })?;
                        HubIdentity::from_seed(&parse_seed(path, &text)?, issuer)
                    }
                    Err(error) => Err(error),
                }
            }
            Err(source) => Err(HubTokenError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// A fresh random identity that is stored nowhere (tests, throwaway hubs).
    pub fn generate(issuer: &str) -> Result<HubIdentity, HubTokenError> {
        HubIdentity::from_seed(&random_seed()?, issuer)
    }

    fn from_seed(seed: &[u8; 32], issuer: &str) -> Result<HubIdentity, HubTokenError> {
        let public_key = SigningKey::from_bytes(seed).verifying_key().to_bytes();
        let mut der = Vec::with_capacity(PKCS8_ED25519_PREFIX.len() + seed.len());
        der.extend_from_slice(&PKCS8_ED25519_PREFIX);
        der.extend_from_slice(seed);
        let digest = Sha256::digest(public_key);
        let kid = BASE64URL.encode(&digest[..8]);
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        let identity = HubIdentity {
            issuer: issuer.to_string(),
            kid,
            public_key,
            encoding_key: EncodingKey::from_ed_der(&der),
            header,
            cache: Mutex::new(TokenCache::default()),
        };
        // Sign once now, so a key jsonwebtoken cannot use fails at start, not per request.
        identity.sign(&Principal::hub(), "probe", 0)?;
        Ok(identity)
    }

    /// The issuer (`iss`) of every token.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The key id (`kid`) in every token's header and in the JWKS.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public_key
    }

    /// The token telling department `audience` (its subgraph name) that
    /// `principal` is asking: reused from the cache while it has more than
    /// [`REUSE_MARGIN_SECS`] to live, otherwise freshly signed.
    pub fn token_for(&self, principal: &Principal, audience: &str) -> Arc<str> {
        self.token_for_at(principal, audience, unix_now())
    }

    fn token_for_at(&self, principal: &Principal, audience: &str, now: u64) -> Arc<str> {
        let lock = || self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(token) = lock().get(principal, audience, now) {
            return token;
        }
        let token: Arc<str> = match self.sign(principal, audience, now) {
            Ok(token) => token.into(),
            Err(error) => {
                // Unreachable after the probe in `from_seed`; fail closed: a
                // department refuses an empty token as one that does not verify.
                tracing::error!(%error, audience, "cannot sign a hub identity token");
                return Arc::from("");
            }
        };
        let cached = CachedToken {
            token: token.clone(),
            kind: principal.kind.as_str(),
            scopes: principal.scopes.iter().cloned().collect(),
            department: principal.department.clone(),
            exp: now + TOKEN_LIFETIME_SECS,
        };
        lock().insert(&principal.id, audience, cached, now);
        token
    }

    fn sign(
        &self,
        principal: &Principal,
        audience: &str,
        now: u64,
    ) -> Result<String, HubTokenError> {
        let claims = HubClaims {
            iss: self.issuer.clone(),
            sub: principal.id.clone(),
            aud: audience.to_string(),
            kind: principal.kind.as_str().to_string(),
            scopes: principal.scopes.iter().cloned().collect(),
            department: principal.department.clone(),
            iat: now,
            exp: now + TOKEN_LIFETIME_SECS,
        };
        Ok(jsonwebtoken::encode(
            &self.header,
            &claims,
            &self.encoding_key,
        )?)
    }

    /// The public key as a JSON Web Key Set, served at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "x": BASE64URL.encode(self.public_key),
                "kid": self.kid,
                "alg": "EdDSA",
                "use": "sig",
            }]
        })
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

fn random_seed() -> Result<[u8; 32], HubTokenError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|error| {
        HubTokenError::Random(match error.raw_os_error() {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::other(error.to_string()),
        })
    })?;
    Ok(seed)
}

fn parse_seed(path: &Path, text: &str) -> Result<[u8; 32], HubTokenError> {
    let bytes = BASE64
        .decode(text.trim())
        .map_err(|source| HubTokenError::NotBase64 {
            path: path.to_path_buf(),
            source,
        })?;
    let length = bytes.len();
    bytes.try_into().map_err(|_| HubTokenError::WrongLength {
        path: path.to_path_buf(),
        length,
    })
}

/// Writes the seed to a new file readable only by its owner, creating its folder.
fn write_seed(path: &Path, seed: &[u8; 32]) -> Result<(), HubTokenError> {
    let write_error = |source| HubTokenError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(write_error)?;
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(write_error)?;
    writeln!(file, "{}", BASE64.encode(seed)).map_err(write_error)?;
    file.sync_all().map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::PrincipalKind;
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{DecodingKey, Validation};

    const ISSUER: &str = "tellonce-hub";

    fn department_principal() -> Principal {
        Principal {
            id: "key:dvla-ops".into(),
            kind: PrincipalKind::Department,
            scopes: ["read:people".to_string(), "write:dvla".to_string()]
                .into_iter()
                .collect(),
            department: Some("dvla".into()),
            nino: None,
            claims: serde_json::Map::new(),
        }
    }

    /// Verifies `token` as a department would: with the key the JWKS serves.
    fn verify(identity: &HubIdentity, token: &str, audience: &str) -> HubClaims {
        let set: JwkSet = serde_json::from_value(identity.jwks()).unwrap();
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let jwk = set.find(&kid).expect("the token's kid is in the JWKS");
        let key = DecodingKey::from_jwk(jwk).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<HubClaims>(token, &key, &validation)
            .unwrap()
            .claims
    }

    #[test]
    fn a_token_verifies_with_the_jwks_key_and_carries_the_principal() {
        let identity = HubIdentity::generate(ISSUER).unwrap();
        let token = identity.token_for(&department_principal(), "hmrc");
        let claims = verify(&identity, &token, "hmrc");
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.sub, "key:dvla-ops");
        assert_eq!(claims.aud, "hmrc");
        assert_eq!(claims.kind, "department");
        assert_eq!(claims.scopes, ["read:people", "write:dvla"]);
        assert_eq!(claims.department.as_deref(), Some("dvla"));
        assert_eq!(claims.exp - claims.iat, TOKEN_LIFETIME_SECS);

        let hub = verify(
            &identity,
            &identity.token_for(&Principal::hub(), "dwp"),
            "dwp",
        );
        assert_eq!(
            (hub.sub.as_str(), hub.kind.as_str()),
            ("hub:delivery", "hub")
        );
        assert_eq!(hub.department, None);

        let jwk = &identity.jwks()["keys"][0];
        assert_eq!(jwk["kid"], identity.kid());
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(identity.kid().len(), 11, "base64url of 8 bytes, unpadded");
    }

    #[test]
    fn another_key_does_not_verify_the_token() {
        let identity = HubIdentity::generate(ISSUER).unwrap();
        let other = HubIdentity::generate(ISSUER).unwrap();
        let token = identity.token_for(&Principal::hub(), "hmrc");
        let key = DecodingKey::from_ed_der(&other.public_key());
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&["hmrc"]);
        let error = jsonwebtoken::decode::<HubClaims>(&*token, &key, &validation).unwrap_err();
        assert_eq!(
            error.kind(),
            &jsonwebtoken::errors::ErrorKind::InvalidSignature
        );
    }

    #[test]
    fn tokens_are_reused_per_principal_and_audience_until_near_expiry() {
        let identity = HubIdentity::generate(ISSUER).unwrap();
        let principal = department_principal();
        let start = 1_800_000_000;
        let first = identity.token_for_at(&principal, "hmrc", start);
        let again = identity.token_for_at(&principal, "hmrc", start + 5);
        assert!(Arc::ptr_eq(&first, &again), "a hit shares the cached token");

        let other_audience = identity.token_for_at(&principal, "dwp", start + 5);
        assert_ne!(first, other_audience);
        let other_principal = identity.token_for_at(&Principal::hub(), "hmrc", start + 5);
        assert_ne!(first, other_principal);

        let last_reuse = start + TOKEN_LIFETIME_SECS - REUSE_MARGIN_SECS - 1;
        assert_eq!(identity.token_for_at(&principal, "hmrc", last_reuse), first);
        let renewed = identity.token_for_at(&principal, "hmrc", last_reuse + 1);
        assert_ne!(
            renewed, first,
            "re-signed once less than the margin is left"
        );

        let mut fewer_scopes = principal.clone();
        fewer_scopes.scopes.remove("write:dvla");
        let changed = identity.token_for_at(&fewer_scopes, "hmrc", last_reuse + 2);
        assert_ne!(
            changed, renewed,
            "a changed principal is not sent a stale token"
        );
    }

    #[test]
    fn the_cache_stays_bounded() {
        let identity = HubIdentity::generate(ISSUER).unwrap();
        let mut principal = Principal::anonymous();
        for n in 0..TOKEN_CACHE_CAPACITY + 10 {
            principal.id = format!("key:{n}");
            identity.token_for_at(&principal, "hmrc", 1_800_000_000);
        }
        let cache = identity.cache.lock().unwrap();
        assert!(cache.len <= TOKEN_CACHE_CAPACITY);
        assert_eq!(
            cache.len,
            cache.by_audience.values().map(HashMap::len).sum::<usize>()
        );
    }

    #[test]
    fn a_key_file_round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("hub-identity.key");
        let created = HubIdentity::load_or_create(&path, ISSUER).unwrap();
        let loaded = HubIdentity::load_or_create(&path, ISSUER).unwrap();
        assert_eq!(created.public_key(), loaded.public_key());
        assert_eq!(created.kid(), loaded.kid());
        let token = loaded.token_for(&Principal::hub(), "hmrc");
        assert_eq!(verify(&created, &token, "hmrc").sub, "hub:delivery");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_bad_key_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub-identity.key");
        std::fs::write(&path, "not base64!").unwrap();
        let error = HubIdentity::load_or_create(&path, ISSUER).unwrap_err();
        assert!(matches!(error, HubTokenError::NotBase64 { .. }), "{error}");
        assert!(error.to_string().contains("hub-identity.key"), "{error}");

        std::fs::write(&path, BASE64.encode([7u8; 16])).unwrap();
        let error = HubIdentity::load_or_create(&path, ISSUER).unwrap_err();
        assert!(
            matches!(error, HubTokenError::WrongLength { length: 16, .. }),
            "{error}"
        );
    }
}
