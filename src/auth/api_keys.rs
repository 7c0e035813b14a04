//! API-key principals, stored in the hub's database: a key is 256 random
//! bits shown once when it is issued; only its SHA-256 is stored, so a copy
//! of the database lets no one call the hub. Revocation takes effect on
//! every instance within the credential cache's lifetime.

use std::collections::BTreeSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::principal::{Principal, PrincipalKind};
use crate::store::schema::auth_principals;
use crate::store::{AnyConnection, Store, StoreError};

/// Every API key starts so: a credential is recognised without a lookup.
pub const API_KEY_PREFIX: &str = "tok_";

#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("a principal named {0:?} already exists; revoke it first or choose another name")]
    Exists(String),
    #[error("no principal named {0:?}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot draw random bytes for a key: {0}")]
    Random(String),
    #[error("the principals table: {0}")]
    Storage(#[from] diesel::result::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a new principal is.
#[derive(Debug, Clone)]
pub struct NewPrincipal {
    /// Unique, 1–64 of `a-z 0-9 - _ .`; the principal's id is `key:<name>`.
    pub name: String,
    pub kind: PrincipalKind,
    pub scopes: BTreeSet<String>,
    /// Required for department and agency principals.
    pub department: Option<String>,
    /// Required for citizen principals.
    pub nino: Option<String>,
}

/// A principal as listed (never with its key).
#[derive(Debug, Clone, Queryable)]
pub struct PrincipalRecord {
    pub name: String,
    pub kind: String,
    pub scopes: String,
    pub department: Option<String>,
    pub nino: Option<String>,
    pub key_hash: Vec<u8>,
    pub created_micros: i64,
    pub revoked_micros: Option<i64>,
}

impl PrincipalRecord {
    fn principal(&self) -> Option<Principal> {
        Some(Principal {
            id: format!("key:{}", self.name),
            kind: PrincipalKind::parse(&self.kind)?,
            scopes: self.scopes.split_whitespace().map(str::to_string).collect(),
            department: self.department.clone(),
            nino: self.nino.clone(),
            claims: serde_json::Map::new(),
        })
    }
}

/// The SHA-256 of a presented key, as stored.
pub fn key_hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl NewPrincipal {
    fn check(&mut self) -> Result<(), ApiKeyError> {
        let valid_name = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.'));
        if !valid_name {
            return Err(ApiKeyError::Invalid(format!(
                "principal name {:?}: use 1 to 64 of a-z, 0-9, '-', '_' and '.'",
                self.name
            )));
        }
        if !self.kind.issuable() {
            return Err(ApiKeyError::Invalid(format!(
                "kind {} is the hub's own and cannot be issued",
                self.kind
            )));
        }
        if let Some(scope) = self
            .scopes
            .iter()
            .find(|s| s.is_empty() || s.len() > 128 || s.chars().any(|c| c.is_whitespace()))
        {
            return Err(ApiKeyError::Invalid(format!(
                "scope {scope:?}: scopes are 1 to 128 characters with no spaces"
            )));
        }
        let needs_department =
            matches!(self.kind, PrincipalKind::Department | PrincipalKind::Agency);
        if needs_department != self.department.is_some() {
            return Err(ApiKeyError::Invalid(if needs_department {
                format!(
                    "a {} principal needs --department (the subgraph or agency it acts for)",
                    self.kind
                )
            } else {
                "only department and agency principals take --department".into()
            }));
        }
        match (self.kind, &self.nino) {
            (PrincipalKind::Citizen, Some(nino)) => {
                self.nino = Some(
                    tellonce_identifiers::parse_nino(nino)
                        .map_err(|e| ApiKeyError::Invalid(format!("--nino: {e}")))?,
                );
            }
            (PrincipalKind::Citizen, None) => {
                return Err(ApiKeyError::Invalid(
                    "a citizen principal needs --nino (their National Insurance number)".into(),
                ))
            }
            (_, Some(_)) => {
                return Err(ApiKeyError::Invalid(
                    "only citizen principals take --nino".into(),
                ))
            }
            (_, None) => {}
        }
        Ok(())
    }
}

/// Issues a key for a new principal; the key is returned once and never stored.
pub fn add(store: &Store, new: NewPrincipal) -> Result<String, ApiKeyError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| ApiKeyError::Random(e.to_string()))?;
    let key = format!("{API_KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(seed));
    add_with_key(store, new, key)
}

/// Registers a principal under a key made elsewhere (a secret manager, a
/// provisioning script): it must start with `tok_` and carry at least 128
/// bits (22 or more characters after the prefix).
pub fn add_with_key(
    store: &Store,
    mut new: NewPrincipal,
    key: String,
) -> Result<String, ApiKeyError> {
    new.check()?;
    let body = key.strip_prefix(API_KEY_PREFIX).unwrap_or("");
    if body.len() < 22 || body.len() > 256 || !body.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiKeyError::Invalid(format!(
            "an API key is {API_KEY_PREFIX} followed by 22 to 256 printable characters (128 bits or more)"
        )));
    }
    let hash = key_hash(&key).to_vec();
    let scopes = new.scopes.iter().cloned().collect::<Vec<_>>().join(" ");
    let now = chrono::Utc::now().timestamp_micros();
    let mut conn = store.get()?;
    let conn: &mut AnyConnection = &mut conn;
    let taken = auth_principals::table
        .filter(auth_principals::name.eq(&new.name))
        .count()
        .get_result::<i64>(conn)?;
    if taken > 0 {
        return Err(ApiKeyError::Exists(new.name));
    }
    diesel::insert_into(auth_principals::table)
        .values((
            auth_principals::name.eq(&new.name),
            auth_principals::kind.eq(new.kind.as_str()),
            auth_principals::scopes.eq(scopes),
            auth_principals::department.eq(&new.department),
            auth_principals::nino.eq(&new.nino),
            auth_principals::key_hash.eq(hash),
            auth_principals::created_micros.eq(now),
            auth_principals::revoked_micros.eq(None::<i64>),
        ))
        .execute(conn)
        .map_err(|error| match error {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => ApiKeyError::Exists(new.name.clone()),
            other => ApiKeyError::Storage(other),
        })?;
    Ok(key)
}

/// Revokes a principal's key (the row stays, so the name is not reused by accident).
pub fn revoke(store: &Store, name: &str) -> Result<(), ApiKeyError> {
    let mut conn = store.get()?;
    let now = chrono::Utc::now().timestamp_micros();
    let changed = diesel::update(
        auth_principals::table
            .filter(auth_principals::name.eq(name))
            .filter(auth_principals::revoked_micros.is_null()),
    )
    .set(auth_principals::revoked_micros.eq(Some(now)))
    .execute(&mut *conn)?;
    if changed == 0 {
        return Err(ApiKeyError::NotFound(name.to_string()));
    }
    Ok(())
}

/// Removes a principal entirely (the demo rotates its example keys so).
pub fn remove(store: &Store, name: &str) -> Result<(), ApiKeyError> {
    let mut conn = store.get()?;
    diesel::delete(auth_principals::table.filter(auth_principals::name.eq(name)))
        .execute(&mut *conn)?;
    Ok(())
}

/// Every principal, by name.
pub fn list(store: &Store) -> Result<Vec<PrincipalRecord>, ApiKeyError> {
    let mut conn = store.get()?;
    Ok(auth_principals::table
        .order(auth_principals::name.asc())
        .load::<PrincipalRecord>(&mut *conn)?)
}

/// The principal a presented key belongs to; `None` for an unknown or revoked key.
pub fn lookup(store: &Store, key: &str) -> Result<Option<Principal>, ApiKeyError> {
    let hash = key_hash(key).to_vec();
    let mut conn = store.get()?;
    let found = auth_principals::table
        .filter(auth_principals::key_hash.eq(hash))
        .filter(auth_principals::revoked_micros.is_null())
        .first::<PrincipalRecord>(&mut *conn)
        .optional()?;
    Ok(found.and_then(|record| record.principal()))
}
