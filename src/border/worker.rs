//! The retry worker: asks again every agency whose assessment is due (it
//! did not answer, or the hub stopped while asking), as tell-us-once
//! delivery retries, and records the answers so the plans are revised.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::record;
use super::Border;
use crate::store::Backend;
use crate::tellonce::delivery::random_token;

pub(super) fn start(border: Arc<Border>) -> tokio::task::JoinHandle<()> {
    if border.ledger.store().backend() == Backend::Sqlite {
        let released = border
            .ledger
            .store()
            .get()
            .map_err(super::BorderError::from)
            .and_then(|mut conn| record::release_all_claims(&mut conn));
        match released {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                assessments = n,
                "asking again the agencies an earlier run was asking"
            ),
            Err(error) => tracing::warn!(%error, "could not release earlier assessment claims"),
        }
    }
    tokio::spawn(run(border))
}

async fn run(border: Arc<Border>) {
    let lease = (border.config.claim_lease_ms as i64).saturating_mul(1000);
    let batch = border.config.claim_batch.max(1) as i64;
    loop {
        let token = random_token();
        let claimed = {
            let border = border.clone();
            let token = token.clone();
            tokio::task::spawn_blocking(move || {
                let mut conn = border.ledger.store().get()?;
                let rows = record::claim_due(&mut conn, batch, lease, &token)?;
                let ids: Vec<&str> = rows.iter().map(|r| r.consignment_id.as_str()).collect();
                let declarations = record::declarations(&mut conn, &ids)?;
                Ok::<_, super::BorderError>((rows, declarations))
            })
            .await
        };
        let (rows, declarations) = match claimed {
            Ok(Ok(claimed)) => claimed,
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot claim assessments to ask again");
                tokio::time::sleep(border.config.poll()).await;
                continue;
            }
            Err(_) => return,
        };
        if rows.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(border.config.poll()) => {}
                _ = border.work.notified() => {}
            }
            continue;
        }
        let mut by_consignment: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in rows {
            by_consignment
                .entry(row.consignment_id)
                .or_default()
                .push(row.agency);
        }
        let rounds = by_consignment.into_iter().filter_map(|(id, agencies)| {
            let declaration = declarations.get(&id)?.clone();
            let border = border.clone();
            let token = token.clone();
            Some(async move {
                let answers = border.ask(&id, &declaration, &agencies).await;
                if let Err(error) = border.record_answers(id, token, answers).await {
                    tracing::warn!(%error, "cannot record agencies' answers; they are asked again when the claim runs out");
                }
            })
        });
        futures::future::join_all(rounds).await;
    }
}
