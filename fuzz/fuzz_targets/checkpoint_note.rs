//! Checkpoints and signed notes (src/ledger/checkpoint.rs) and key text
//! forms (src/ledger/keys.rs).
//!
//! * Text mode (first byte not 0x00): the input (UTF-8, lossily) is fed to
//!   `Checkpoint::parse_body`, `SignedNote::parse`, `parse_signature_line`
//!   (each line), `verify_note` (with and without the expected origin),
//!   `verify_cosignature` (each signature line against the witness key),
//!   `NoteVerifier::from_vkey` and `NoteSigner::from_skey`; whatever parses
//!   must round-trip through its text form.
//! * Signed mode (first byte 0x00): a checkpoint with fuzz-chosen origin,
//!   size and root is signed with the fuzz log key and cosigned by the fuzz
//!   witness; both must verify, and a note with any single byte of the
//!   log-signed part changed must not. `sign_many` must equal `sign` one by
//!   one, and `verify_batch` must accept those signatures and refuse a
//!   tampered one.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use tellonce::ledger::checkpoint::{
    cosign, parse_signature_line, verify_cosignature, verify_note, Checkpoint, SignedNote,
};
use tellonce::ledger::entry::Receipt;
use tellonce::ledger::keys::{NoteSigner, NoteVerifier};
use tellonce_fuzz::{log_signer, log_verifier, witness_signer, witness_verifier};

const ORIGIN: &str = "fuzz.tellonce.example/ledger";

fn text(data: &[u8]) {
    let note = String::from_utf8_lossy(data);
    let witnesses = [witness_verifier().clone(), log_verifier().clone()];
    if let Ok(cp) = Checkpoint::parse_body(&note) {
        assert!(!cp.origin.is_empty() && !cp.origin.contains('\n'));
        assert_eq!(Checkpoint::parse_body(&cp.body()), Ok(cp.clone()), "checkpoint body round trip");
    }
    for line in note.split('\n') {
        if let Ok(sig) = parse_signature_line(line) {
            assert_eq!(sig.line, line);
            assert!(!sig.name.is_empty());
        }
    }
    if let Ok(parsed) = SignedNote::parse(&note) {
        assert!(parsed.body.ends_with('\n'));
        assert!(!parsed.signatures.is_empty());
        for sig in &parsed.signatures {
            let _ = verify_cosignature(&parsed.body, &sig.line, &witnesses);
        }
    }
    match verify_note(&note, log_verifier(), None) {
        Ok(cp) => {
            let parsed = SignedNote::parse(&note).expect("a verified note parses");
            assert_eq!(Checkpoint::parse_body(&parsed.body), Ok(cp.clone()));
            let with_origin = verify_note(&note, log_verifier(), Some(&cp.origin));
            assert_eq!(with_origin, Ok(cp));
        }
        Err(_) => {
            let _ = verify_note(&note, log_verifier(), Some(ORIGIN));
        }
    }
    if let Ok(v) = NoteVerifier::from_vkey(&note) {
        let again = NoteVerifier::from_vkey(&v.to_vkey()).expect("a vkey's text form parses");
        assert_eq!(again, v);
    }
    if let Ok(s) = NoteSigner::from_skey(&note) {
        let again = NoteSigner::from_skey(&s.to_skey()).expect("an skey's text form parses");
        assert_eq!(again.to_skey(), s.to_skey());
        assert_eq!(again.verifier(), s.verifier());
        assert_eq!(
            NoteVerifier::from_vkey(&s.verifier().to_vkey()).ok(),
            Some(s.verifier())
        );
    }
}

#[derive(Debug, Arbitrary)]
struct Signed {
    origin: String,
    size: u64,
    root: [u8; 32],
    timestamp: u64,
    flip_at: u16,
    flip_mask: u8,
    messages: Vec<Vec<u8>>,
    bad: u8,
}

fn signed(data: &[u8]) {
    let Ok(s) = Signed::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    // A valid origin is one non-empty line.
    let origin: String = s.origin.chars().filter(|c| *c != '\n').collect();
    let origin = if origin.is_empty() { ORIGIN.to_string() } else { origin };
    let cp = Checkpoint {
        origin,
        size: s.size,
        root: s.root,
    };
    let signer = log_signer();
    let note = cp.sign(signer);
    assert_eq!(verify_note(&note, log_verifier(), None), Ok(cp.clone()));
    assert_eq!(verify_note(&note, log_verifier(), Some(&cp.origin)), Ok(cp.clone()));
    // A witness cosignature over the body verifies, and appending it keeps the note valid.
    let body = cp.body();
    let line = cosign(&body, witness_signer(), s.timestamp);
    let witnesses = [witness_verifier().clone()];
    assert!(verify_cosignature(&body, &line, &witnesses).is_ok());
    assert!(verify_cosignature(&body, &format!("{line}\n"), &witnesses).is_ok());
    let cosigned = format!("{note}{line}\n");
    assert_eq!(verify_note(&cosigned, log_verifier(), None), Ok(cp.clone()));
    // The log key is not a witness key.
    assert!(verify_cosignature(&body, &line, &[log_verifier().clone()]).is_err());

    // Any one byte of the log-signed note changed must fail.
    let mut bytes = cosigned.clone().into_bytes();
    let at = usize::from(s.flip_at) % note.len();
    bytes[at] ^= s.flip_mask | 1;
    if let Ok(tampered) = String::from_utf8(bytes) {
        let r = verify_note(&tampered, log_verifier(), None);
        assert!(r.is_err(), "a note changed at byte {at} verified:\n{tampered:?}");
    }

    // sign_many is sign, one by one.
    let messages: Vec<&[u8]> = s.messages.iter().take(16).map(Vec::as_slice).collect();
    let many = signer.sign_many(&messages);
    assert_eq!(many.len(), messages.len());
    for (m, sig) in messages.iter().zip(&many) {
        assert_eq!(*sig, signer.sign(m), "sign_many differs from sign");
        assert!(log_verifier().verify(m, sig));
    }
    assert!(log_verifier().verify_batch(&messages, &many));
    if !many.is_empty() {
        let mut bad = many.clone();
        let i = usize::from(s.bad) % bad.len();
        bad[i][usize::from(s.bad) % 64] ^= 0x40;
        assert!(!log_verifier().verify(messages[i], &bad[i]));
        assert!(!log_verifier().verify_batch(&messages, &bad), "a batch with a bad signature verified");
    }
    // Receipts.
    let receipt = Receipt::sign(signer, s.size, s.root);
    assert!(receipt.verify(log_verifier()));
    assert!(!receipt.verify(witness_verifier()));
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((0, rest)) => signed(rest),
        _ => text(data),
    }
});
