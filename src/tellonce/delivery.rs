//! Delivery workers: claim due notifications, send each through the
//! federation executor (the rule's mutation, the variables the rule names,
//! the (event, department) idempotency key as a variable and as an
//! `Idempotency-Key` header), and record the outcome. Failures retry with
//! exponential backoff and jitter; after the configured attempts, or on an
//! error that retrying cannot fix, the notification is dead-lettered.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Map, Value as Json};

use super::outbox::{self, AttemptResult, Outcome};
use super::tables::OutboxRow;
use super::{TellOnce, TellOnceConfig, TellOnceError};
use crate::gateway::{GraphQLRequest, GraphQLResponse};
use crate::store::Backend;
use crate::telemetry::measure::{self, DeliveryOutcome};

/// Error codes a retry cannot fix: the department refuses the request itself.
const PERMANENT_CODES: &[&str] = &[
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "BAD_USER_INPUT",
    "CONFLICT",
];

/// Starts the configured number of workers.
pub fn start_workers(tellonce: Arc<TellOnce>) -> Vec<tokio::task::JoinHandle<()>> {
    if tellonce.ledger.store().backend() == Backend::Sqlite {
        // One SQLite instance: claims left by a previous run are nobody's.
        let released = tellonce
            .ledger
            .store()
            .get()
            .map_err(super::TellOnceError::from)
            .and_then(|mut conn| outbox::release_all_claims(&mut conn));
        match released {
            Ok(0) => {}
            Ok(n) => tracing::info!(notifications = n, "released claims left by an earlier run"),
            Err(error) => tracing::warn!(%error, "could not release earlier claims"),
        }
    }
    let mut tasks: Vec<_> = (0..tellonce.config.delivery_workers)
        .map(|_| tokio::spawn(run_worker(tellonce.clone())))
        .collect();
    tasks.push(tokio::spawn(clear_past_retention(tellonce)));
    tasks
}

/// Clears the data notifications carry once their retention has run out
/// (and, with no retention, any an earlier version kept).
async fn clear_past_retention(tellonce: Arc<TellOnce>) {
    let mut ticker = tokio::time::interval(tellonce.config.retention_sweep());
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let days = i64::from(tellonce.config.retain_delivered_days);
        let cutoff = chrono::Utc::now().timestamp_micros() - days * 86_400 * 1_000_000;
        let ledger = tellonce.ledger.clone();
        let cleared = tokio::task::spawn_blocking(move || {
            let mut conn = ledger.store().get()?;
            outbox::clear_delivered(&mut conn, cutoff)
        })
        .await;
        match cleared {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(notifications = n, "cleared data past its retention"),
            Ok(Err(error)) => tracing::warn!(%error, "could not clear data past its retention"),
            Err(_) => return,
        }
    }
}

/// A random claim token (which asker holds a claim).
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 16];
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}

/// A uniformly random fraction in [0, 1).
fn random_fraction() -> f64 {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

/// The wait before retry number `attempt` (1 after the first failure):
/// `base * 2^(attempt-1)` capped at `max`, then "equal jitter" (half fixed,
/// half random) so many failed notifications do not retry in step.
pub fn backoff(config: &TellOnceConfig, attempt: u32) -> Duration {
    backoff_between(config.backoff_base_ms, config.backoff_max_ms, attempt)
}

/// [`backoff`] for any base and cap, in milliseconds.
pub fn backoff_between(base_ms: u64, max_ms: u64, attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let ceiling = base_ms.saturating_mul(1u64 << exponent).min(max_ms).max(1);
    let half = ceiling as f64 / 2.0;
    Duration::from_micros(((half + half * random_fraction()) * 1000.0) as u64)
}

async fn run_worker(tellonce: Arc<TellOnce>) {
    let config = tellonce.config.clone();
    let lease_micros = (config.claim_lease_ms as i64).saturating_mul(1000);
    loop {
        let token = random_token();
        let claim = {
            let tellonce = tellonce.clone();
            let token = token.clone();
            tokio::task::spawn_blocking(move || {
                let mut conn = tellonce.ledger.store().get()?;
                outbox::claim_due(&mut conn, config.claim_batch as i64, lease_micros, &token)
            })
            .await
        };
        let rows = match claim {
            Ok(Ok(rows)) => rows,
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot claim notifications");
                tokio::time::sleep(config.poll()).await;
                continue;
            }
            Err(_) => return,
        };
        if rows.is_empty() {
            let work = tellonce.work().clone();
            tokio::select! {
                _ = tokio::time::sleep(config.poll()) => {}
                _ = work.notified() => {}
            }
            continue;
        }
        let attempts = rows.into_iter().map(|row| {
            let tellonce = tellonce.clone();
            let token = token.clone();
            async move {
                let outcome = deliver(&tellonce, &row).await;
                AttemptResult {
                    row,
                    token,
                    outcome,
                }
            }
        });
        let results = futures::future::join_all(attempts).await;
        let recorded = {
            let tellonce = tellonce.clone();
            tokio::task::spawn_blocking(move || {
                let mut conn = tellonce.ledger.store().get()?;
                let recorded = outbox::record_outcomes(
                    &mut conn,
                    &tellonce.ledger,
                    &results,
                    tellonce.config.keeps_delivered_data(),
                )?;
                for result in &results {
                    let outcome = match result.outcome {
                        Outcome::Delivered => DeliveryOutcome::Delivered,
                        Outcome::Failed { .. } => DeliveryOutcome::Retried,
                        Outcome::DeadLettered { .. } => DeliveryOutcome::DeadLettered,
                    };
                    measure::delivery(&result.row.department, outcome);
                }
                Ok::<_, TellOnceError>(recorded)
            })
            .await
        };
        match recorded {
            Ok(Ok(_)) => {}
            // The claims run out and the notifications are tried again.
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot record delivery outcomes");
                tokio::time::sleep(config.poll()).await;
            }
            Err(_) => return,
        }
    }
}

/// One delivery attempt through the federation executor.
async fn deliver(tellonce: &TellOnce, row: &OutboxRow) -> Outcome {
    let config = &tellonce.config;
    let attempt = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
    let failure = |code: &str, message: String| {
        let permanent = PERMANENT_CODES.contains(&code);
        if permanent || attempt >= config.max_attempts {
            Outcome::DeadLettered {
                code: code.to_owned(),
                message,
            }
        } else {
            let wait = backoff(config, attempt);
            Outcome::Failed {
                code: code.to_owned(),
                message,
                retry_at_micros: Utc::now().timestamp_micros()
                    + i64::try_from(wait.as_micros()).unwrap_or(i64::MAX / 2),
            }
        }
    };
    let Some(gateway) = tellonce.gateway().current() else {
        return failure("SUBGRAPH_UNAVAILABLE", "no supergraph is loaded".into());
    };
    let variables: Map<String, Json> = match serde_json::from_str(&row.variables) {
        Ok(Json::Object(map)) => map,
        _ => {
            return failure(
                "BAD_USER_INPUT",
                "the stored variables are not an object".into(),
            )
        }
    };
    let request = GraphQLRequest {
        query: Some(row.document.clone()),
        operation_name: None,
        variables: Some(variables),
        extensions: None,
    };
    let headers = [("Idempotency-Key".to_owned(), row.idempotency_key.clone())];
    let context = crate::gateway::RequestContext::hub_delivery(headers.to_vec());
    let response = gateway.execute_in(request, &context).await;
    match first_error(&response) {
        None => Outcome::Delivered,
        Some((code, message)) => failure(&code, message),
    }
}

/// The first error of a response as (code, message), or `None` when the
/// department answered with data and no errors.
fn first_error(response: &GraphQLResponse) -> Option<(String, String)> {
    if let Some(error) = response.errors.first() {
        let code = error.code().unwrap_or("SUBGRAPH_ERROR").to_owned();
        return Some((code, error.message.clone()));
    }
    match &response.data {
        Some(Json::Object(data)) if data.values().all(|v| !v.is_null()) => None,
        _ => Some((
            "SUBGRAPH_ERROR".into(),
            "the department answered no data".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let config = TellOnceConfig {
            backoff_base_ms: 100,
            backoff_max_ms: 1000,
            ..TellOnceConfig::default()
        };
        for (attempt, ceiling) in [
            (1u32, 100u64),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (20, 1000),
        ] {
            for _ in 0..50 {
                let wait = backoff(&config, attempt).as_millis() as u64;
                assert!(
                    wait >= ceiling / 2 && wait <= ceiling,
                    "attempt {attempt}: {wait}"
                );
            }
        }
    }
}
