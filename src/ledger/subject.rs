//! Keyed subject hashes: HMAC-SHA-256 of a personal identifier under the
//! hub's subject key, so the ledger can link entries about one person or
//! business without ever storing the identifier.
//!
//! The identifier is hashed byte for byte; callers normalise it first and
//! prefix its scheme (e.g. `nino:AB123456C`). The key file holds 64 hex digits
//! and must be the same on every hub instance that shares a ledger.

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::entry::SubjectHash;
use super::keys::KeyError;

/// The secret key behind subject hashes.
#[derive(Clone)]
pub struct SubjectKey([u8; 32]);

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKey(..)")
    }
}

impl SubjectKey {
    /// A fresh random key.
    pub fn generate() -> Result<SubjectKey, KeyError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(SubjectKey(key))
    }

    /// A key from its 32 bytes.
    pub fn from_bytes(key: [u8; 32]) -> SubjectKey {
        SubjectKey(key)
    }

    /// The keyed hash of `identifier`.
    pub fn hash(&self, identifier: &str) -> SubjectHash {
        // An HMAC accepts keys of any length, so this cannot fail.
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0) else {
            return [0u8; 32];
        };
        mac.update(identifier.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Reads the key file.
    pub fn read_file(path: &Path) -> Result<SubjectKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let bytes =
            hex::decode(text.trim()).map_err(|_| KeyError::Malformed("subject", "not hex"))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::Malformed("subject", "not 32 bytes"))?;
        Ok(SubjectKey(key))
    }

    /// Writes the key file (mode 0600 on Unix), never replacing an existing file.
    pub fn write_file(&self, path: &Path) -> Result<(), KeyError> {
        super::keys::write_secret_file(path, &hex::encode(self.0))
    }
}
