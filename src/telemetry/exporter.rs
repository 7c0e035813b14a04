//! The process-wide Prometheus recorder and the page `/metrics` serves:
//! what was recorded, plus the gauges read when scraped.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use metrics::gauge;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::measure::Cache;
use crate::gateway::reload::LiveGateway;
use crate::ledger::Ledger;

/// Latency buckets, in seconds: 1 ms to 30 s.
const SECONDS_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often histograms are drained even when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Departments whose outbox depth was ever reported.
static DEPARTMENTS_SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// The installed recorder's handle, installing it on first call. `None`
/// when another recorder was installed first (by an embedding program).
pub(crate) fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => {
                    super::measure::register();
                    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                        let upkeep = handle.clone();
                        runtime.spawn(async move {
                            let mut every = tokio::time::interval(UPKEEP_EVERY);
                            loop {
                                every.tick().await;
                                upkeep.run_upkeep();
                            }
                        });
                    }
                    Some(handle)
                }
                Err(error) => {
                    tracing::warn!(%error, "metrics are not served: another recorder is installed");
                    None
                }
            }
        })
        .as_ref()
}

/// Installs the process-wide recorder (once), so what happens from now on
/// is counted. Call it from within the runtime, which drains histograms.
pub fn install_metrics() {
    handle();
}

/// What `/metrics` reads at scrape time.
pub struct ScrapeSources {
    pub gateway: Arc<LiveGateway>,
    pub ledger: Arc<Ledger>,
}

/// The metrics page in the Prometheus text format, or `None` when metrics
/// are not recorded in this process. Reads the database: call it off the
/// async workers.
pub fn render_metrics(sources: &ScrapeSources) -> Option<String> {
    let handle = handle()?;
    read_gauges(sources);
    handle.run_upkeep();
    Some(handle.render())
}

fn read_gauges(sources: &ScrapeSources) {
    if let Some(gateway) = sources.gateway.current() {
        let caches = &gateway.supergraph().plan_cache;
        for (cache, entries, bytes) in [
            (
                Cache::Document,
                caches.documents.len(),
                caches.documents.weight(),
            ),
            (Cache::Plan, caches.plans.len(), caches.plans.weight()),
        ] {
            gauge!("tellonce_cache_entries", "cache" => cache.label()).set(entries as f64);
            gauge!("tellonce_cache_bytes", "cache" => cache.label()).set(bytes as f64);
        }
    }
    let ledger = &sources.ledger;
    match ledger.size() {
        Ok(size) => gauge!("tellonce_ledger_entries").set(size as f64),
        Err(error) => tracing::warn!(%error, "metrics: cannot read the ledger size"),
    }
    match ledger.latest_checkpoint() {
        Ok(Some(checkpoint)) => {
            let age = chrono::Utc::now() - checkpoint.issued_at;
            gauge!("tellonce_ledger_checkpoint_age_seconds")
                .set(age.num_milliseconds().max(0) as f64 / 1000.0);
            gauge!("tellonce_ledger_checkpoint_tree_size").set(checkpoint.tree_size as f64);
        }
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "metrics: cannot read the latest checkpoint"),
    }
    let depths = ledger
        .store()
        .get()
        .map_err(crate::tellonce::TellOnceError::from)
        .and_then(|mut conn| crate::tellonce::outbox::depth_by_department(&mut conn));
    match depths {
        Ok(depths) => {
            let now = chrono::Utc::now().timestamp_micros();
            // A department whose queue emptied has no row: report it at zero.
            let mut seen = DEPARTMENTS_SEEN
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for department in seen.iter() {
                if !depths.iter().any(|d| &d.department == department) {
                    gauge!("tellonce_outbox_depth", "department" => department.clone()).set(0.0);
                    gauge!("tellonce_outbox_oldest_age_seconds", "department" => department.clone())
                        .set(0.0);
                }
            }
            seen.extend(depths.iter().map(|d| d.department.clone()));
            drop(seen);
            for depth in depths {
                let department = depth.department;
                gauge!("tellonce_outbox_depth", "department" => department.clone())
                    .set(depth.waiting as f64);
                let age = depth
                    .oldest_received_micros
                    .map_or(0.0, |t| (now - t).max(0) as f64 / 1e6);
                gauge!("tellonce_outbox_oldest_age_seconds", "department" => department).set(age);
            }
        }
        Err(error) => tracing::warn!(%error, "metrics: cannot read the outbox depth"),
    }
}
