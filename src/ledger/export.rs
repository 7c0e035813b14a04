//! The JSON-lines export and its offline verification.
//!
//! An export is one JSON object per line, in this order:
//!
//! 1. `{"type":"header","format":"tellonce-ledger-export/2","origin":…,"size":N}`
//! 2. one `{"type":"checkpoint","treeSize":…,"rootHash":b64,"note":…}` per
//!    checkpoint covering at most `N` entries, smallest first;
//! 3. one `{"type":"entry","seq":…,"recordedMicros":…,"kind":…,"actor":…,
//!    "subject":b64|null,"payloadHash":b64,"prevHash":b64,"entryHash":b64,
//!    "signature":b64,"payload":string|null}` per entry, `seq` 0 to `N-1`
//!    (`payload` is the stored JSON text, `null` once erased);
//! 4. `{"type":"end","size":N,"lastHash":b64}`.
//!
//! Hashes and signatures are standard base64, as everywhere in the ledger
//! (see [`super::encoding`]).
//!
//! A file that stops early (no end line, fewer entries than the header
//! promises, a last line cut short) fails verification as truncated.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::encoding;
use super::entry::{Entry, EntryHeader};
use super::keys::NoteVerifier;
use super::merkle::Hash;
use super::read::payloads_between;
use super::rows::{CheckpointRow, EntryRow, HeadRow};
use super::verify::{ChainVerifier, EntryRecord, Fault, FaultLocation, Summary, VerifyError};
use crate::store::schema::{ledger_checkpoints, ledger_entries, ledger_head};
use crate::store::{AnyConnection, Store};

/// The format name in the header line.
pub const FORMAT: &str = "tellonce-ledger-export/2";
const PAGE: i64 = 8192;

/// One line of an export.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum ExportLine {
    #[serde(rename_all = "camelCase")]
    Header {
        format: String,
        origin: String,
        size: u64,
    },
    #[serde(rename_all = "camelCase")]
    Checkpoint {
        tree_size: u64,
        root_hash: String,
        note: String,
    },
    #[serde(rename_all = "camelCase")]
    Entry {
        seq: u64,
        recorded_micros: i64,
        kind: String,
        actor: String,
        subject: Option<String>,
        payload_hash: String,
        prev_hash: String,
        entry_hash: String,
        signature: String,
        payload: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    End { size: u64, last_hash: String },
}

/// Export failures (not verification faults).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read the ledger: {0}")]
    Read(String),
}

impl From<diesel::result::Error> for ExportError {
    fn from(e: diesel::result::Error) -> Self {
        ExportError::Read(e.to_string())
    }
}

impl From<crate::store::StoreError> for ExportError {
    fn from(e: crate::store::StoreError) -> Self {
        ExportError::Read(e.to_string())
    }
}

fn entry_line(row: EntryRow, payload: Option<String>) -> ExportLine {
    ExportLine::Entry {
        seq: row.seq.max(0) as u64,
        recorded_micros: row.recorded_micros,
        kind: row.kind,
        actor: row.actor,
        subject: row.subject.map(|s| encoding::encode(&s)),
        payload_hash: encoding::encode(&row.payload_hash),
        prev_hash: encoding::encode(&row.prev_hash),
        entry_hash: encoding::encode(&row.entry_hash),
        signature: encoding::encode(&row.signature),
        payload,
    }
}

/// Writes the ledger as it stands to `path`, calling `progress(done,
/// total)` after each page of entries; returns the number of entries.
pub fn export_store(
    store: &Store,
    origin: &str,
    path: &Path,
    mut progress: impl FnMut(u64, u64),
) -> Result<u64, ExportError> {
    let werr = |source| ExportError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut conn = store.get()?;
    let conn: &mut AnyConnection = &mut conn;
    let head: HeadRow = ledger_head::table.find(1i64).first(conn)?;
    let size = head.size.max(0);
    let file = std::fs::File::create(path).map_err(werr)?;
    let mut out = BufWriter::new(file);
    let write =
        |line: &ExportLine, out: &mut BufWriter<std::fs::File>| -> Result<(), ExportError> {
            serde_json::to_writer(&mut *out, line).map_err(|e| werr(e.into()))?;
            out.write_all(b"\n").map_err(werr)
        };
    write(
        &ExportLine::Header {
            format: FORMAT.into(),
            origin: origin.into(),
            size: size as u64,
        },
        &mut out,
    )?;
    let checkpoints: Vec<CheckpointRow> = ledger_checkpoints::table
        .filter(ledger_checkpoints::tree_size.le(size))
        .order(ledger_checkpoints::tree_size.asc())
        .load(conn)?;
    for cp in checkpoints {
        write(
            &ExportLine::Checkpoint {
                tree_size: cp.tree_size.max(0) as u64,
                root_hash: encoding::encode(&cp.root_hash),
                note: cp.note,
            },
            &mut out,
        )?;
    }
    let mut after = -1i64;
    let mut last_hash = Vec::new();
    loop {
        let rows: Vec<EntryRow> = ledger_entries::table
            .filter(ledger_entries::seq.gt(after))
            .filter(ledger_entries::seq.lt(size))
            .order(ledger_entries::seq.asc())
            .limit(PAGE)
            .load(conn)?;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            break;
        };
        let mut payloads = payloads_between(conn, first.seq, last.seq)?;
        after = last.seq;
        for row in rows {
            last_hash.clone_from(&row.entry_hash);
            let payload = payloads.remove(&row.seq);
            write(&entry_line(row, payload), &mut out)?;
        }
        progress((after + 1) as u64, size as u64);
    }
    write(
        &ExportLine::End {
            size: size as u64,
            last_hash: encoding::encode(&last_hash),
        },
        &mut out,
    )?;
    let file = out.into_inner().map_err(|e| werr(e.into_error()))?;
    file.sync_all().map_err(werr)?;
    Ok(size as u64)
}

fn line_entry(line: ExportLine) -> Option<EntryRecord> {
    let ExportLine::Entry {
        seq,
        recorded_micros,
        kind,
        actor,
        subject,
        payload_hash,
        prev_hash,
        entry_hash,
        signature,
        payload,
    } = line
    else {
        return None;
    };
    let bad = |reason: &str| {
        Some(EntryRecord::Malformed {
            seq,
            reason: reason.into(),
        })
    };
    let subject = match subject {
        None => None,
        Some(s) => match encoding::decode_hash(&s) {
            Some(h) => Some(h),
            None => return bad("subject is not a 32-byte base64 hash"),
        },
    };
    let (Some(payload_hash), Some(prev_hash), Some(entry_hash)) = (
        encoding::decode_hash(&payload_hash),
        encoding::decode_hash(&prev_hash),
        encoding::decode_hash(&entry_hash),
    ) else {
        return bad("a hash is not 32 bytes of base64");
    };
    let Some(signature) = encoding::decode(&signature) else {
        return bad("signature is not base64");
    };
    Some(EntryRecord::Entry(Entry {
        header: EntryHeader {
            seq,
            recorded_micros,
            kind,
            actor,
            subject,
            payload_hash,
            prev_hash,
        },
        entry_hash,
        signature,
        payload,
    }))
}

/// Verifies an export file offline against the hub's verifier key.
pub fn verify_export(
    path: &Path,
    key: &NoteVerifier,
    mut progress: impl FnMut(u64, u64),
) -> Result<Summary, VerifyError> {
    let file = std::fs::File::open(path)
        .map_err(|e| VerifyError::Read(format!("{}: {e}", path.display())))?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut verifier = ChainVerifier::new(key.clone());
    let mut promised: Option<u64> = None;
    let mut ended: Option<(u64, Option<Hash>)> = None;
    let truncated = |verifier: &ChainVerifier, promised: Option<u64>, what: String| {
        Fault {
        location: FaultLocation::Entry(verifier.size()),
        reason: format!(
            "the export is truncated ({what}); entries from this one on are missing of the {} promised",
            promised.unwrap_or(0)
        ),
    }
    };
    for (index, line) in reader.lines().enumerate() {
        let number = index as u64 + 1;
        let line = line.map_err(|e| VerifyError::Read(e.to_string()))?;
        if ended.is_some() {
            return Err(Fault {
                location: FaultLocation::ExportLine(number),
                reason: "content after the end line".into(),
            }
            .into());
        }
        let parsed: ExportLine = match serde_json::from_str(&line) {
            Ok(p) => p,
            Err(_) => {
                // A fault in the entries before the cut is the one to name.
                verifier.push_flush()?;
                return Err(truncated(
                    &verifier,
                    promised,
                    format!("line {number} is not a complete record"),
                )
                .into());
            }
        };
        match parsed {
            ExportLine::Header { format, size, .. } if number == 1 && format == FORMAT => {
                promised = Some(size);
            }
            _ if number == 1 => {
                return Err(Fault {
                    location: FaultLocation::ExportLine(1),
                    reason: format!("not a {FORMAT} header"),
                }
                .into())
            }
            ExportLine::Header { .. } => {
                return Err(Fault {
                    location: FaultLocation::ExportLine(number),
                    reason: "a second header".into(),
                }
                .into())
            }
            ExportLine::Checkpoint {
                tree_size,
                root_hash,
                note,
            } => {
                let root = encoding::decode_hash(&root_hash).unwrap_or([0u8; 32]);
                verifier.add_checkpoint(tree_size, root, note)?;
            }
            entry @ ExportLine::Entry { .. } => {
                if let Some(record) = line_entry(entry) {
                    verifier.push(record)?;
                }
                if verifier.size().is_multiple_of(65536) {
                    progress(verifier.size(), promised.unwrap_or(0));
                }
            }
            ExportLine::End { size, last_hash } => {
                // The entries' own faults (one missing, one twice) come first.
                verifier.push_flush()?;
                let count = verifier.size();
                if Some(size) != promised || size != count {
                    return Err(truncated(
                        &verifier,
                        promised,
                        format!("the end line says {size} entries, {count} are present"),
                    )
                    .into());
                }
                ended = Some((number, encoding::decode_hash(&last_hash)));
            }
        }
    }
    if let Some((number, last_hash)) = ended {
        verifier.push_flush()?;
        let (tip, frontier) = verifier.tip();
        if frontier.size() > 0 && last_hash != Some(tip) {
            return Err(Fault {
                location: FaultLocation::ExportLine(number),
                reason: "the end line's last hash is not the last entry's hash".into(),
            }
            .into());
        }
        let summary = verifier.finish()?;
        progress(summary.entries, summary.entries);
        return Ok(summary);
    }
    if promised.is_none() {
        return Err(Fault {
            location: FaultLocation::ExportLine(1),
            reason: "the export is empty".into(),
        }
        .into());
    }
    verifier.push_flush()?;
    Err(truncated(&verifier, promised, "no end line".into()).into())
}
