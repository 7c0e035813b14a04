//! The JSON-lines ledger export (src/ledger/export.rs).
//!
//! * Raw mode (any input whose first byte is not 0x00): the input is the
//!   export's text. Every line is decoded as an `ExportLine` (and a decoded
//!   line must survive re-encoding unchanged), then the whole text is
//!   verified offline with `verify_export` against the fuzz log key.
//! * Built mode (first byte 0x00): the rest drives `arbitrary` to describe a
//!   ledger (entries, erasures, checkpoints); the target writes a correct,
//!   signed export of it, which must verify with the right summary, then
//!   applies one mutation (drop, swap or duplicate a line, flip a byte, cut
//!   the file) and verifies again, which must not panic and, for mutations
//!   that break the export, must fail.
//!
//! `TELLONCE_FUZZ_WRITE_SEEDS=<dir>` writes a few correct exports there at
//! start-up (how fuzz/corpus/ledger_export_line was seeded).
#![no_main]

use std::path::PathBuf;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use tellonce::ledger::checkpoint::Checkpoint;
use tellonce::ledger::entry::{EntryHeader, Receipt, ERASURE_KIND, GENESIS_PREV};
use tellonce::ledger::export::{verify_export, ExportLine, FORMAT};
use tellonce::ledger::merkle::{leaf_hash, sha256, Frontier, Hash};
use tellonce_fuzz::{log_signer, log_verifier};

const ORIGIN: &str = "fuzz.tellonce.example/ledger";

#[derive(Debug, Arbitrary)]
struct EntrySpec {
    kind: u8,
    actor: String,
    subject: Option<[u8; 32]>,
    payload: String,
    /// Makes this an erasure of an earlier entry (index taken modulo seq).
    erase: Option<u16>,
    micros: i64,
}

#[derive(Debug, Arbitrary)]
enum Mutation {
    None,
    DropLine(u16),
    SwapLines(u16, u16),
    DuplicateLine(u16),
    FlipByte(u32, u8),
    Truncate(u32),
}

#[derive(Debug, Arbitrary)]
struct Ledger {
    entries: Vec<EntrySpec>,
    checkpoints: Vec<u16>,
    mutation: Mutation,
}

struct Built {
    lines: Vec<String>,
    /// Which lines are checkpoint lines (optional: dropping one keeps the export sound).
    checkpoint_lines: std::ops::Range<usize>,
    entries: u64,
    erased: u64,
    checkpoints: u64,
    root: Hash,
}

fn build(spec: &Ledger) -> Built {
    let signer = log_signer();
    let kinds = ["tellonce.event.recorded", "tellonce.delivery.succeeded", "hub.started"];
    let n = spec.entries.len().min(80);
    let mut frontier = Frontier::new();
    let mut prev = GENESIS_PREV;
    let mut roots = vec![frontier.root()];
    let mut payloads: Vec<Option<String>> = Vec::with_capacity(n);
    let mut headers = Vec::with_capacity(n);
    let mut erased = std::collections::BTreeSet::new();
    let mut erasures = std::collections::BTreeSet::new();
    for (seq, e) in spec.entries.iter().take(n).enumerate() {
        let seq = seq as u64;
        // An erasure names an earlier entry that is neither erased nor itself an erasure.
        let target = e
            .erase
            .filter(|_| seq > 0)
            .map(|t| u64::from(t) % seq.max(1))
            .filter(|t| !erased.contains(t) && !erasures.contains(t));
        let (kind, payload) = match target {
            Some(target) => {
                erased.insert(target);
                erasures.insert(seq);
                (ERASURE_KIND.to_string(), format!("{{\"erases\":{target}}}"))
            }
            _ => (
                kinds[usize::from(e.kind) % kinds.len()].to_string(),
                serde_json::json!({ "text": e.payload }).to_string(),
            ),
        };
        let header = EntryHeader {
            seq,
            recorded_micros: e.micros,
            kind,
            actor: e.actor.clone(),
            subject: e.subject,
            payload_hash: sha256(payload.as_bytes()),
            prev_hash: prev,
        };
        prev = header.entry_hash();
        frontier.push(leaf_hash(&prev), |_, _| {});
        roots.push(frontier.root());
        payloads.push(Some(payload));
        headers.push(header);
    }
    for &target in &erased {
        payloads[target as usize] = None;
    }
    let mut lines = vec![serde_json::to_string(&ExportLine::Header {
        format: FORMAT.into(),
        origin: ORIGIN.into(),
        size: n as u64,
    })
    .unwrap()];
    let mut sizes: Vec<u64> = if n == 0 {
        Vec::new()
    } else {
        spec.checkpoints.iter().map(|s| u64::from(*s) % n as u64 + 1).collect()
    };
    sizes.sort_unstable();
    sizes.dedup();
    for &size in &sizes {
        let root = roots[size as usize];
        let note = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root,
        }
        .sign(signer);
        lines.push(
            serde_json::to_string(&ExportLine::Checkpoint {
                tree_size: size,
                root_hash: text(&root),
                note,
            })
            .unwrap(),
        );
    }
    let checkpoint_lines = 1..lines.len();
    for (header, payload) in headers.into_iter().zip(payloads) {
        let entry_hash = header.entry_hash();
        let receipt = Receipt::sign(signer, header.seq, entry_hash);
        lines.push(
            serde_json::to_string(&ExportLine::Entry {
                seq: header.seq,
                recorded_micros: header.recorded_micros,
                kind: header.kind,
                actor: header.actor,
                subject: header.subject.map(|s| text(&s)),
                payload_hash: text(&header.payload_hash),
                prev_hash: text(&header.prev_hash),
                entry_hash: text(&entry_hash),
                signature: text(&receipt.signature),
                payload,
            })
            .unwrap(),
        );
    }
    lines.push(
        serde_json::to_string(&ExportLine::End {
            size: n as u64,
            last_hash: if n == 0 { String::new() } else { text(&prev) },
        })
        .unwrap(),
    );
    Built {
        lines,
        checkpoint_lines,
        entries: n as u64,
        erased: erased.len() as u64,
        checkpoints: sizes.len() as u64,
        root: frontier.root(),
    }
}

/// The export's encoding of hashes and signatures.
fn text(bytes: &[u8]) -> String {
    tellonce::ledger::encoding::encode(bytes)
}

fn scratch_path() -> PathBuf {
    let dir = std::path::Path::new("/dev/shm");
    let dir = if dir.is_dir() { dir.to_path_buf() } else { std::env::temp_dir() };
    dir.join(format!("tellonce-fuzz-export-{}.jsonl", std::process::id()))
}

fn verify_bytes(bytes: &[u8]) -> Result<tellonce::ledger::verify::Summary, String> {
    let path = scratch_path();
    std::fs::write(&path, bytes).expect("write the scratch export");
    verify_export(&path, log_verifier(), |_, _| {}).map_err(|e| e.to_string())
}

fn raw(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        if let Ok(parsed) = serde_json::from_str::<ExportLine>(line) {
            let encoded = serde_json::to_string(&parsed).expect("an ExportLine encodes");
            let again: ExportLine =
                serde_json::from_str(&encoded).expect("an encoded ExportLine decodes");
            assert_eq!(
                serde_json::to_string(&again).unwrap(),
                encoded,
                "re-encoding changed the line"
            );
        }
    }
    let _ = verify_bytes(data);
}

fn built(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(spec) = Ledger::arbitrary(&mut u) else {
        return;
    };
    let b = build(&spec);
    let text = b.lines.join("\n") + "\n";
    let summary = verify_bytes(text.as_bytes())
        .unwrap_or_else(|e| panic!("a correct export does not verify: {e}\n{text}"));
    assert_eq!(summary.entries, b.entries);
    assert_eq!(summary.erased, b.erased);
    assert_eq!(summary.checkpoints, b.checkpoints);
    assert_eq!(summary.root, b.root);

    let mut lines = b.lines.clone();
    let count = lines.len();
    let must_fail = match spec.mutation {
        Mutation::None => return,
        Mutation::DropLine(i) => {
            let i = usize::from(i) % count;
            lines.remove(i);
            !b.checkpoint_lines.contains(&i)
        }
        Mutation::SwapLines(i, j) => {
            let (i, j) = (usize::from(i) % count, usize::from(j) % count);
            lines.swap(i, j);
            // Checkpoints may be listed in any order, and the verifier takes a
            // checkpoint line among the first entries too (it only refuses one
            // below the entries already checked), so only swaps of other lines
            // must break the export.
            i != j && !b.checkpoint_lines.contains(&i) && !b.checkpoint_lines.contains(&j)
        }
        Mutation::DuplicateLine(i) => {
            let i = usize::from(i) % count;
            let line = lines[i].clone();
            lines.insert(i, line);
            // A checkpoint listed twice is registered twice, harmlessly.
            !b.checkpoint_lines.contains(&i)
        }
        Mutation::FlipByte(at, mask) => {
            let mut bytes = text.into_bytes();
            let at = at as usize % bytes.len();
            bytes[at] ^= mask | 1;
            let _ = verify_bytes(&bytes);
            return;
        }
        Mutation::Truncate(at) => {
            let bytes = text.as_bytes();
            let at = at as usize % bytes.len();
            // Cutting the file anywhere before the end line's newline loses something.
            let result = verify_bytes(&bytes[..at]);
            assert!(
                result.is_err() || at + 1 >= bytes.len(),
                "a truncated export verified: cut at {at} of {}",
                bytes.len()
            );
            return;
        }
    };
    let mutated = lines.join("\n") + "\n";
    let result = verify_bytes(mutated.as_bytes());
    if must_fail {
        assert!(
            result.is_err(),
            "a broken export verified ({:?}):\n{mutated}",
            spec.mutation
        );
    }
}

fn write_seeds(dir: &str) {
    std::fs::create_dir_all(dir).expect("create the seed folder");
    let specs: Vec<Vec<u8>> = vec![
        vec![],
        (0u8..40).collect(),
        (0u8..200).map(|i| i.wrapping_mul(37)).collect(),
        (0u8..255).rev().collect(),
    ];
    for (i, raw) in specs.iter().enumerate() {
        let mut u = Unstructured::new(raw);
        let mut spec = Ledger::arbitrary(&mut u).expect("arbitrary ledger");
        if i == 1 {
            spec.entries = (0..5)
                .map(|j| EntrySpec {
                    kind: j,
                    actor: "hub".into(),
                    subject: (j % 2 == 0).then_some([j; 32]),
                    payload: format!("entry {j}"),
                    erase: (j == 4).then_some(1),
                    micros: 1_700_000_000_000_000 + i64::from(j),
                })
                .collect();
            spec.checkpoints = vec![1, 3, 4];
        }
        let b = build(&spec);
        let text = b.lines.join("\n") + "\n";
        std::fs::write(format!("{dir}/export-{i}.jsonl"), text).expect("write a seed");
    }
}

fuzz_target!(
    init: {
        if let Ok(dir) = std::env::var("TELLONCE_FUZZ_WRITE_SEEDS") {
            write_seeds(&dir);
        }
    },
    |data: &[u8]| {
        match data.split_first() {
            Some((0, rest)) => built(rest),
            _ => raw(data),
        }
    }
);
