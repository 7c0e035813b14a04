//! Signing and verifier keys in the C2SP signed-note text forms.
//!
//! * verifier key (`vkey`): `<name>+<key id, 8 hex digits>+<base64(alg || public key)>`
//! * signing key (`skey`, the key file's one line):
//!   `PRIVATE+KEY+<name>+<key id>+<base64(alg || 32-byte seed)>`
//!
//! `alg` is `0x01` for Ed25519 note signatures (the hub's checkpoint and
//! entry key) and `0x04` for C2SP `tlog-cosignature` witness keys. The key
//! id is the first four bytes of `SHA-256(name || 0x0A || alg || public key)`.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use super::merkle::sha256;

/// Signature algorithm byte of a note key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// Ed25519 signed-note signature.
    Ed25519 = 0x01,
    /// Ed25519 `cosignature/v1` (witness timestamped cosignature).
    Cosignature = 0x04,
}

impl KeyAlgorithm {
    fn from_byte(b: u8) -> Option<KeyAlgorithm> {
        match b {
            0x01 => Some(KeyAlgorithm::Ed25519),
            0x04 => Some(KeyAlgorithm::Cosignature),
            _ => None,
        }
    }
}

/// Key parsing, generation and file errors.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("malformed {0} key: {1}")]
    Malformed(&'static str, &'static str),
    #[error("the key file {path} cannot be read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the key file {path} cannot be written: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("the key file {0} already exists; refusing to overwrite it")]
    Exists(String),
    #[error("the system random source failed: {0}")]
    Random(String),
}

fn key_id(name: &str, alg: KeyAlgorithm, public: &[u8; 32]) -> [u8; 4] {
    let mut data = Vec::with_capacity(name.len() + 34);
    data.extend_from_slice(name.as_bytes());
    data.push(0x0A);
    data.push(alg as u8);
    data.extend_from_slice(public);
    let h = sha256(&data);
    [h[0], h[1], h[2], h[3]]
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('+')
        && name.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

/// A note signing key: name, algorithm, Ed25519 key.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    alg: KeyAlgorithm,
    key: SigningKey,
    id: [u8; 4],
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("id", &hex::encode(self.id))
            .finish()
    }
}

impl NoteSigner {
    /// A fresh random key.
    pub fn generate(name: &str, alg: KeyAlgorithm) -> Result<NoteSigner, KeyError> {
        if !valid_name(name) {
            return Err(KeyError::Malformed(
                "signing",
                "name is empty or has '+' or spaces",
            ));
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(NoteSigner::from_seed(name, alg, &seed))
    }

    fn from_seed(name: &str, alg: KeyAlgorithm, seed: &[u8; 32]) -> NoteSigner {
        let key = SigningKey::from_bytes(seed);
        let id = key_id(name, alg, key.verifying_key().as_bytes());
        NoteSigner {
            name: name.to_string(),
            alg,
            key,
            id,
        }
    }

    /// Parses `PRIVATE+KEY+<name>+<id>+<base64>`.
    pub fn from_skey(text: &str) -> Result<NoteSigner, KeyError> {
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(KeyError::Malformed(
                "signing",
                "missing PRIVATE+KEY+ prefix",
            ))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(data), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(KeyError::Malformed("signing", "expected name+id+key"));
        };
        let raw = BASE64
            .decode(data)
            .map_err(|_| KeyError::Malformed("signing", "key is not base64"))?;
        let (alg, seed) = raw
            .split_first()
            .ok_or(KeyError::Malformed("signing", "key is empty"))?;
        let alg = KeyAlgorithm::from_byte(*alg)
            .ok_or(KeyError::Malformed("signing", "unknown algorithm"))?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| KeyError::Malformed("signing", "key is not 32 bytes"))?;
        if !valid_name(name) {
            return Err(KeyError::Malformed("signing", "bad name"));
        }
        let signer = NoteSigner::from_seed(name, alg, &seed);
        if hex::encode(signer.id) != id {
            return Err(KeyError::Malformed(
                "signing",
                "key id does not match the key",
            ));
        }
        Ok(signer)
    }

    /// The key in `PRIVATE+KEY+…` form.
    pub fn to_skey(&self) -> String {
        let mut raw = vec![self.alg as u8];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(self.id),
            BASE64.encode(raw)
        )
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            alg: self.alg,
            key: self.key.verifying_key(),
            id: self.id,
        }
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id.
    pub fn id(&self) -> [u8; 4] {
        self.id
    }

    /// The Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// The Ed25519 signatures of `messages`, byte for byte what [`sign`]
    /// gives for each (Ed25519 is deterministic), computed together: the
    /// nonce points are compressed in one batch, which shares a single
    /// field inversion across all of them (Montgomery's trick) instead of
    /// paying one per signature, about a quarter of a signature's cost.
    ///
    /// [`sign`]: NoteSigner::sign
    pub fn sign_many<M: AsRef<[u8]>>(&self, messages: &[M]) -> Vec<[u8; 64]> {
        use curve25519_dalek::{EdwardsPoint, Scalar};
        use ed25519_dalek::hazmat::ExpandedSecretKey;
        use sha2::{Digest, Sha512};

        // RFC 8032 section 5.1.6, steps as numbered there.
        let secret = ExpandedSecretKey::from(&self.key.to_bytes());
        let public = self.key.verifying_key().to_bytes();
        let (nonces, points): (Vec<Scalar>, Vec<EdwardsPoint>) = messages
            .iter()
            .map(|message| {
                // 2: r = SHA-512(prefix || M) mod L; 3: R = [r]B.
                let r = Scalar::from_hash(
                    Sha512::new()
                        .chain_update(secret.hash_prefix)
                        .chain_update(message.as_ref()),
                );
                (r, EdwardsPoint::mul_base(&r))
            })
            .unzip();
        let compressed = EdwardsPoint::compress_batch_alloc(&points);
        messages
            .iter()
            .zip(nonces)
            .zip(compressed)
            .map(|((message, r), big_r)| {
                // 4: k = SHA-512(R || A || M) mod L; 5: S = (r + k * s) mod L.
                let k = Scalar::from_hash(
                    Sha512::new()
                        .chain_update(big_r.as_bytes())
                        .chain_update(public)
                        .chain_update(message.as_ref()),
                );
                let s = k * secret.scalar + r;
                let mut signature = [0u8; 64];
                signature[..32].copy_from_slice(big_r.as_bytes());
                signature[32..].copy_from_slice(s.as_bytes());
                signature
            })
            .collect()
    }

    /// Reads a key file (one `PRIVATE+KEY+…` line).
    pub fn read_file(path: &Path) -> Result<NoteSigner, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        NoteSigner::from_skey(&text)
    }

    /// Writes the key file (mode 0600 on Unix), never replacing an existing file.
    pub fn write_file(&self, path: &Path) -> Result<(), KeyError> {
        write_secret_file(path, &self.to_skey())
    }
}

/// Writes one line of secret key text to a new file readable only by its
/// owner (mode 0600 on Unix), creating its folder; an existing file is never
/// replaced, so a key in use cannot be lost to a second `keygen`.
pub(crate) fn write_secret_file(path: &Path, line: &str) -> Result<(), KeyError> {
    let werr = |source| KeyError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(werr)?;
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists(path.display().to_string())
        } else {
            werr(e)
        }
    })?;
    writeln!(file, "{line}").map_err(werr)?;
    file.sync_all().map_err(werr)
}

/// A note verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    alg: KeyAlgorithm,
    key: VerifyingKey,
    id: [u8; 4],
}

impl NoteVerifier {
    /// Parses `<name>+<id>+<base64>`.
    pub fn from_vkey(text: &str) -> Result<NoteVerifier, KeyError> {
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(data), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(KeyError::Malformed("verifier", "expected name+id+key"));
        };
        if !valid_name(name) {
            return Err(KeyError::Malformed("verifier", "bad name"));
        }
        let raw = BASE64
            .decode(data)
            .map_err(|_| KeyError::Malformed("verifier", "key is not base64"))?;
        let (alg, public) = raw
            .split_first()
            .ok_or(KeyError::Malformed("verifier", "key is empty"))?;
        let alg = KeyAlgorithm::from_byte(*alg)
            .ok_or(KeyError::Malformed("verifier", "unknown algorithm"))?;
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| KeyError::Malformed("verifier", "key is not 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| KeyError::Malformed("verifier", "not an Ed25519 point"))?;
        let computed = key_id(name, alg, &public);
        if hex::encode(computed) != id {
            return Err(KeyError::Malformed(
                "verifier",
                "key id does not match the key",
            ));
        }
        Ok(NoteVerifier {
            name: name.to_string(),
            alg,
            key,
            id: computed,
        })
    }

    /// The key in `<name>+<id>+<base64>` form.
    pub fn to_vkey(&self) -> String {
        let mut raw = vec![self.alg as u8];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.id),
            BASE64.encode(raw)
        )
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id.
    pub fn id(&self) -> [u8; 4] {
        self.id
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.alg
    }

    /// Whether `signature` is a valid Ed25519 signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        self.key
            .verify(message, &Signature::from_bytes(&bytes))
            .is_ok()
    }

    /// Whether every `signatures[i]` is a valid Ed25519 signature of
    /// `messages[i]`, checked together (one multiscalar multiplication for
    /// the whole batch, several times cheaper per signature than
    /// [`NoteVerifier::verify`]). `false` says only that at least one is bad
    /// (or the lengths differ): check them one by one to find which.
    pub fn verify_batch(&self, messages: &[&[u8]], signatures: &[[u8; 64]]) -> bool {
        if messages.len() != signatures.len() {
            return false;
        }
        let signatures: Vec<Signature> = signatures.iter().map(Signature::from_bytes).collect();
        let keys = vec![self.key; messages.len()];
        ed25519_dalek::verify_batch(messages, &signatures, &keys).is_ok()
    }
}
