//! Calling witnesses (C2SP tlog-witness): for each new checkpoint the hub
//! posts `add-checkpoint` to every configured witness with the size that
//! witness last cosigned and a consistency proof from it, and stores the
//! cosignatures it answers with. A `409 Conflict` names the witness's own
//! size; the hub answers it once with the proof from that size. Every other
//! answer the spec defines (400, 403, 404, 422) is reported and ends that
//! witness's round; the next checkpoint tries again.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::config::WitnessConfig;
use super::keys::NoteVerifier;
use super::{Ledger, LedgerError};

/// How long one witness may take to answer.
const WITNESS_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer read from a witness.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Why a witness did not cosign.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error("witness {witness}: {source}")]
    Ledger {
        witness: String,
        #[source]
        source: LedgerError,
    },
    #[error("witness {witness} cannot be reached: {reason}")]
    Unreachable { witness: String, reason: String },
    #[error("witness {witness} refused the checkpoint of size {size}: HTTP {status}: {body}")]
    Refused {
        witness: String,
        size: u64,
        status: u16,
        body: String,
    },
    #[error("witness {witness} has cosigned size {theirs}, beyond our latest checkpoint of size {ours}: it holds a checkpoint this ledger no longer has (restored from a backup, or a fork)")]
    AheadOfUs {
        witness: String,
        theirs: u64,
        ours: u64,
    },
    #[error("witness {witness} answered 200 without a valid cosignature of its own key")]
    NoCosignature { witness: String },
}

/// A witness's refusal, with the start of its answer.
fn refused(witness: String, size: u64, status: u16, answer: &str) -> WitnessError {
    WitnessError::Refused {
        witness,
        size,
        status,
        body: answer.trim_end().chars().take(200).collect(),
    }
}

/// Runs `f` on the ledger off the async threads.
async fn on_ledger<T: Send + 'static>(
    ledger: &Arc<Ledger>,
    f: impl FnOnce(&Ledger) -> Result<T, LedgerError> + Send + 'static,
) -> Result<T, LedgerError> {
    let ledger = ledger.clone();
    tokio::task::spawn_blocking(move || f(&ledger))
        .await
        .unwrap_or(Err(LedgerError::CommitAborted))
}

/// One witness to call.
#[derive(Debug, Clone)]
struct Witness {
    verifier: NoteVerifier,
    endpoint: String,
}

/// The witnesses configured in `[[ledger.witnesses]]`.
#[derive(Debug, Clone)]
pub struct WitnessClient {
    http: reqwest::Client,
    witnesses: Vec<Witness>,
}

impl WitnessClient {
    /// `None` when no witness is configured.
    pub fn new(configs: &[WitnessConfig]) -> Result<Option<WitnessClient>, LedgerError> {
        if configs.is_empty() {
            return Ok(None);
        }
        let mut witnesses = Vec::new();
        for config in configs {
            witnesses.push(Witness {
                verifier: NoteVerifier::from_vkey(&config.vkey)?,
                endpoint: format!("{}/add-checkpoint", config.url.trim_end_matches('/')),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(WITNESS_TIMEOUT)
            .build()
            .map_err(|e| LedgerError::Key(format!("cannot build the witness HTTP client: {e}")))?;
        Ok(Some(WitnessClient { http, witnesses }))
    }

    /// Asks every witness that has not cosigned the latest checkpoint to
    /// do so; returns what went wrong, witness by witness.
    pub async fn cosign_latest(&self, ledger: &Arc<Ledger>) -> Vec<WitnessError> {
        let checkpoint = match on_ledger(ledger, |l| l.latest_checkpoint()).await {
            Ok(Some(checkpoint)) => checkpoint,
            Ok(None) => return Vec::new(),
            Err(source) => {
                return vec![WitnessError::Ledger {
                    witness: "every witness".into(),
                    source,
                }]
            }
        };
        let mut errors = Vec::new();
        for witness in &self.witnesses {
            if let Err(error) = self.cosign(ledger, witness, &checkpoint).await {
                errors.push(error);
            }
        }
        errors
    }

    async fn cosign(
        &self,
        ledger: &Arc<Ledger>,
        witness: &Witness,
        checkpoint: &super::StoredCheckpoint,
    ) -> Result<(), WitnessError> {
        let name = witness.verifier.name().to_string();
        let size = checkpoint.tree_size;
        let in_ledger = |source| WitnessError::Ledger {
            witness: name.clone(),
            source,
        };
        let vkey = witness.verifier.to_vkey();
        let known = on_ledger(ledger, move |l| l.witnessed_size(&vkey))
            .await
            .map_err(in_ledger)?;
        if known == Some(size) {
            return Ok(());
        }
        let mut old = known.unwrap_or(0);
        // One retry: a 409 tells us the size the witness holds.
        for _ in 0..2 {
            if old > size {
                return Err(WitnessError::AheadOfUs {
                    witness: name,
                    theirs: old,
                    ours: size,
                });
            }
            let proof = if old == 0 || old == size {
                Vec::new()
            } else {
                on_ledger(ledger, move |l| l.consistency_proof(old, Some(size)))
                    .await
                    .map_err(in_ledger)?
                    .hashes
            };
            let mut body = format!("old {old}\n");
            for hash in &proof {
                body.push_str(&BASE64.encode(hash));
                body.push('\n');
            }
            body.push('\n');
            body.push_str(&checkpoint.note);
            let response = self
                .http
                .post(&witness.endpoint)
                .body(body)
                .send()
                .await
                .map_err(|e| WitnessError::Unreachable {
                    witness: name.clone(),
                    reason: e.to_string(),
                })?;
            let status = response.status().as_u16();
            let is_size = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/x.tlog.size"));
            let bytes = response
                .bytes()
                .await
                .map_err(|e| WitnessError::Unreachable {
                    witness: name.clone(),
                    reason: e.to_string(),
                })?;
            let text =
                String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_ANSWER_BYTES)]).into_owned();
            match status {
                200 => {
                    let lines: Vec<String> = text
                        .lines()
                        .filter(|l| l.starts_with('\u{2014}'))
                        .map(str::to_string)
                        .collect();
                    // Lines by other keys are ignored, as the spec asks.
                    let stored = on_ledger(ledger, move |l| {
                        Ok(lines
                            .iter()
                            .filter(|line| l.add_cosignature(size, line).is_ok())
                            .count())
                    })
                    .await
                    .map_err(in_ledger)?;
                    return if stored > 0 {
                        Ok(())
                    } else {
                        Err(WitnessError::NoCosignature { witness: name })
                    };
                }
                409 if is_size => match text.trim_end().parse::<u64>() {
                    Ok(theirs) if theirs != old => old = theirs,
                    _ => return Err(refused(name, size, status, &text)),
                },
                _ => return Err(refused(name, size, status, &text)),
            }
        }
        Err(WitnessError::Refused {
            witness: name,
            size,
            status: 409,
            body: "the witness's size changed again while we answered it".into(),
        })
    }
}
