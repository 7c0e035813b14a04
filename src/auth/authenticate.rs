//! Turning a request's credential into its principal: an API key
//! (`Authorization: Bearer tok_…` or `x-api-key: tok_…`), a JWT
//! (`Authorization: Bearer <jwt>`), or nothing (anonymous). A credential
//! that is present but not valid is refused, never treated as anonymous.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::api_keys::{self, key_hash, API_KEY_PREFIX};
use super::jwt::{JwtConfig, JwtError, JwtVerifier};
use super::principal::Principal;
use crate::store::Store;

/// The `[auth]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub jwt: JwtConfig,
    /// How long a checked API key is trusted without another look in the
    /// database (so a revocation reaches every instance within this), in seconds.
    pub key_cache_seconds: u64,
    /// The hub's identity key, which signs what it tells departments about
    /// who is asking; `None` means `<data_dir>/hub-identity.key`, created on
    /// first start. Every instance needs the same one.
    pub identity_key_file: Option<PathBuf>,
    /// The `iss` of the hub's identity tokens.
    pub issuer: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            jwt: JwtConfig::default(),
            key_cache_seconds: 30,
            identity_key_file: None,
            issuer: "tellonce-hub".into(),
        }
    }
}

/// A credential as presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    None,
    Bearer(&'a str),
    ApiKey(&'a str),
}

impl<'a> Credential<'a> {
    /// Reads `Authorization` and `x-api-key`; `Err` names what is malformed.
    pub fn from_headers(
        authorization: Option<&'a str>,
        api_key: Option<&'a str>,
    ) -> Result<Credential<'a>, AuthError> {
        match (authorization, api_key) {
            (Some(_), Some(_)) => Err(AuthError::Unauthenticated(
                "send one credential: Authorization or x-api-key, not both".into(),
            )),
            (Some(value), None) => {
                let (scheme, token) = value.trim().split_once(' ').ok_or_else(|| {
                    AuthError::Unauthenticated(
                        "the Authorization header must be `Bearer <token>`".into(),
                    )
                })?;
                if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
                    return Err(AuthError::Unauthenticated(
                        "the Authorization header must be `Bearer <token>`".into(),
                    ));
                }
                Ok(Credential::Bearer(token.trim()))
            }
            (None, Some(key)) => Ok(Credential::ApiKey(key.trim())),
            (None, None) => Ok(Credential::None),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// HTTP 401 with `WWW-Authenticate`, `UNAUTHENTICATED`.
    #[error("{0}")]
    Unauthenticated(String),
    /// The credential store cannot be read: HTTP 503, retry.
    #[error("credentials cannot be checked right now: {0}")]
    Unavailable(String),
}

/// Longest credential looked at; anything longer is refused unread.
const MAX_CREDENTIAL_BYTES: usize = 8 * 1024;
/// Keys held in the cache at most (a flood of distinct valid keys cannot grow it further).
const KEY_CACHE_CAPACITY: usize = 10_000;

type KeyCache = HashMap<[u8; 32], (Option<Arc<Principal>>, Instant)>;

/// Checks credentials.
pub struct Authenticator {
    store: Store,
    jwt: Option<Arc<JwtVerifier>>,
    keys: Mutex<KeyCache>,
    key_ttl: Duration,
    anonymous: Arc<Principal>,
}

impl Authenticator {
    pub fn new(store: Store, jwt: Option<Arc<JwtVerifier>>, config: &AuthConfig) -> Self {
        Authenticator {
            store,
            jwt,
            keys: Mutex::new(HashMap::new()),
            key_ttl: Duration::from_secs(config.key_cache_seconds),
            anonymous: Arc::new(Principal::anonymous()),
        }
    }

    /// The principal `credential` stands for.
    pub async fn authenticate(
        &self,
        credential: Credential<'_>,
    ) -> Result<Arc<Principal>, AuthError> {
        let token = match credential {
            Credential::None => return Ok(self.anonymous.clone()),
            Credential::Bearer(token) | Credential::ApiKey(token) => token,
        };
        if token.len() > MAX_CREDENTIAL_BYTES {
            return Err(AuthError::Unauthenticated(format!(
                "the credential is longer than {MAX_CREDENTIAL_BYTES} bytes"
            )));
        }
        if token.starts_with(API_KEY_PREFIX) {
            return self.api_key(token).await;
        }
        if matches!(credential, Credential::ApiKey(_)) {
            return Err(AuthError::Unauthenticated(format!(
                "an API key starts with {API_KEY_PREFIX}"
            )));
        }
        let Some(jwt) = &self.jwt else {
            return Err(AuthError::Unauthenticated(
                "the bearer token is neither an API key nor a JWT this hub accepts (no [auth.jwt] is configured)"
                    .into(),
            ));
        };
        jwt.verify(token)
            .await
            .map(Arc::new)
            .map_err(|error| match error {
                JwtError::Token(_) => AuthError::Unauthenticated(error.to_string()),
                other => AuthError::Unavailable(other.to_string()),
            })
    }

    async fn api_key(&self, key: &str) -> Result<Arc<Principal>, AuthError> {
        let hash = key_hash(key);
        let cached = {
            let cache = self.keys.lock().unwrap_or_else(|p| p.into_inner());
            cache
                .get(&hash)
                .filter(|(_, at)| at.elapsed() < self.key_ttl)
                .map(|(principal, _)| principal.clone())
        };
        let principal = match cached {
            Some(principal) => principal,
            None => {
                let (store, key) = (self.store.clone(), key.to_string());
                let found = tokio::task::spawn_blocking(move || api_keys::lookup(&store, &key))
                    .await
                    .map_err(|e| AuthError::Unavailable(e.to_string()))?
                    .map_err(|e| AuthError::Unavailable(e.to_string()))?
                    .map(Arc::new);
                let mut cache = self.keys.lock().unwrap_or_else(|p| p.into_inner());
                if cache.len() >= KEY_CACHE_CAPACITY {
                    cache.retain(|_, (_, at)| at.elapsed() < self.key_ttl);
                    if cache.len() >= KEY_CACHE_CAPACITY {
                        cache.clear();
                    }
                }
                cache.insert(hash, (found.clone(), Instant::now()));
                found
            }
        };
        principal.ok_or_else(|| {
            AuthError::Unauthenticated("the API key is not known or has been revoked".into())
        })
    }
}
