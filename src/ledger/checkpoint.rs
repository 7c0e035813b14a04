//! Checkpoints in the C2SP `tlog-checkpoint` format, as C2SP signed notes,
//! and C2SP `tlog-cosignature` witness cosignatures.
//!
//! A checkpoint body is three lines: the origin, the tree size in decimal,
//! the base64 root hash. The signed note is the body, an empty line, then one
//! line per signature: `— <key name> <base64(key id || signature)>` (an em
//! dash, U+2014). The hub's signature is Ed25519 over the body bytes.
//! A witness cosignature (`cosignature/v1`) is Ed25519 over
//! `cosignature/v1\ntime <unix seconds>\n<body>` and its line carries
//! `base64(key id || timestamp (8 bytes, big-endian) || signature)`.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::keys::{KeyAlgorithm, NoteSigner, NoteVerifier};
use super::merkle::Hash;

const DASH: &str = "\u{2014} ";

/// Checkpoint parsing and signature errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    #[error("the checkpoint is for origin {found:?}, expected {expected:?}")]
    WrongOrigin { expected: String, found: String },
    #[error("the checkpoint carries no signature by key {0} (signed by an unknown key)")]
    UnknownKey(String),
    #[error("the checkpoint signature by {0} is invalid")]
    BadSignature(String),
    #[error("the cosignature is not by a configured witness key")]
    UnknownWitness,
}

/// A tree head: origin, size, root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note body (three lines, each ending in `\n`).
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    /// Parses a note body.
    pub fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let text = body
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("body does not end in a newline"))?;
        let mut lines = text.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(CheckpointError::Malformed("no origin"))?;
        let size = lines
            .next()
            .and_then(|s| {
                if s.starts_with('0') && s.len() > 1 {
                    None
                } else {
                    s.parse::<u64>().ok()
                }
            })
            .ok_or(CheckpointError::Malformed("bad tree size"))?;
        let root = lines
            .next()
            .and_then(|r| BASE64.decode(r).ok())
            .and_then(|r| <Hash>::try_from(r.as_slice()).ok())
            .ok_or(CheckpointError::Malformed("bad root hash"))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }

    /// The signed note: body, empty line, the signer's line.
    pub fn sign(&self, signer: &NoteSigner) -> String {
        let body = self.body();
        let sig = signer.sign(body.as_bytes());
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&signer.id());
        blob.extend_from_slice(&sig);
        format!("{body}\n{DASH}{} {}\n", signer.name(), BASE64.encode(blob))
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub id: [u8; 4],
    /// The bytes after the key id (signature, or timestamp + signature).
    pub data: Vec<u8>,
    /// The whole line without its newline.
    pub line: String,
}

/// A note split into body and signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    pub body: String,
    pub signatures: Vec<NoteSignature>,
}

/// Parses one `— name base64` line.
pub fn parse_signature_line(line: &str) -> Result<NoteSignature, CheckpointError> {
    let rest = line.strip_prefix(DASH).ok_or(CheckpointError::Malformed(
        "signature line does not start with an em dash",
    ))?;
    let (name, data) = rest
        .split_once(' ')
        .ok_or(CheckpointError::Malformed("signature line has no key name"))?;
    let raw = BASE64
        .decode(data)
        .map_err(|_| CheckpointError::Malformed("signature is not base64"))?;
    if raw.len() < 5 || name.is_empty() {
        return Err(CheckpointError::Malformed("signature too short"));
    }
    Ok(NoteSignature {
        name: name.to_string(),
        id: [raw[0], raw[1], raw[2], raw[3]],
        data: raw[4..].to_vec(),
        line: line.to_string(),
    })
}

impl SignedNote {
    /// Splits a note at its first empty line and parses the signature lines.
    pub fn parse(note: &str) -> Result<SignedNote, CheckpointError> {
        let split = note
            .find("\n\n")
            .ok_or(CheckpointError::Malformed("no signature block"))?;
        let body = &note[..split + 1];
        let sigs = note[split + 2..]
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("note does not end in a newline"))?;
        let signatures = sigs
            .split('\n')
            .map(parse_signature_line)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SignedNote {
            body: body.to_string(),
            signatures,
        })
    }
}

/// Checks a signed checkpoint note against the log's key and origin and
/// returns the checkpoint. Signatures by other keys are ignored, but at least
/// one must be by `verifier`.
pub fn verify_note(
    note: &str,
    verifier: &NoteVerifier,
    origin: Option<&str>,
) -> Result<Checkpoint, CheckpointError> {
    let parsed = SignedNote::parse(note)?;
    let checkpoint = Checkpoint::parse_body(&parsed.body)?;
    if let Some(origin) = origin {
        if checkpoint.origin != origin {
            return Err(CheckpointError::WrongOrigin {
                expected: origin.to_string(),
                found: checkpoint.origin,
            });
        }
    }
    let mine = parsed
        .signatures
        .iter()
        .find(|s| s.name == verifier.name() && s.id == verifier.id())
        .ok_or_else(|| CheckpointError::UnknownKey(verifier.to_vkey()))?;
    if !verifier.verify(parsed.body.as_bytes(), &mine.data) {
        return Err(CheckpointError::BadSignature(verifier.name().to_string()));
    }
    Ok(checkpoint)
}

fn cosigned_message(body: &str, timestamp: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{body}").into_bytes()
}

/// A witness's cosignature line over a checkpoint body at `timestamp` (unix seconds).
pub fn cosign(body: &str, witness: &NoteSigner, timestamp: u64) -> String {
    let sig = witness.sign(&cosigned_message(body, timestamp));
    let mut blob = Vec::with_capacity(76);
    blob.extend_from_slice(&witness.id());
    blob.extend_from_slice(&timestamp.to_be_bytes());
    blob.extend_from_slice(&sig);
    format!("{DASH}{} {}", witness.name(), BASE64.encode(blob))
}

/// Checks a cosignature line against the configured witness keys and returns
/// the witness that signed it.
pub fn verify_cosignature<'a>(
    body: &str,
    line: &str,
    witnesses: &'a [NoteVerifier],
) -> Result<&'a NoteVerifier, CheckpointError> {
    let sig = parse_signature_line(line.trim_end_matches('\n'))?;
    let witness = witnesses
        .iter()
        .find(|w| {
            w.algorithm() == KeyAlgorithm::Cosignature && w.name() == sig.name && w.id() == sig.id
        })
        .ok_or(CheckpointError::UnknownWitness)?;
    if sig.data.len() != 8 + 64 {
        return Err(CheckpointError::Malformed(
            "cosignature is not timestamp + signature",
        ));
    }
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&sig.data[..8]);
    let timestamp = u64::from_be_bytes(ts);
    if !witness.verify(&cosigned_message(body, timestamp), &sig.data[8..]) {
        return Err(CheckpointError::BadSignature(witness.name().to_string()));
    }
    Ok(witness)
}
