//! The one text encoding of the ledger's binary values: hashes, roots,
//! proofs and signatures are standard base64 (RFC 4648 §4, padded), as the
//! C2SP formats write them, in the graph, the export and the CLI alike.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::merkle::Hash;

/// A hash, root or signature as text.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A 32-byte hash from its text; `None` when it is not one.
pub fn decode_hash(text: &str) -> Option<Hash> {
    STANDARD
        .decode(text)
        .ok()
        .and_then(|b| Hash::try_from(b.as_slice()).ok())
}

/// Bytes from their text; `None` when it is not base64.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}
