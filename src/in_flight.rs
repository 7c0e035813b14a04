//! Sharing work in flight: callers that ask for the same key while a run
//! for it is under way wait for that run and receive a clone of its result,
//! instead of starting their own.
//!
//! Used twice: inbound, identical client queries share one execution
//! (`http::dedup`); outbound, identical subgraph requests share one call
//! (`gateway::outbound`). The rules of what counts as "the same" belong to
//! the key each of them builds; this module only keeps the runs.
//!
//! A run lives exactly as long as someone waits for it: whoever leaves first,
//! finished or cancelled, retires the key, so a caller arriving afterwards
//! starts afresh and a result is never served from a cache. A cancelled
//! caller does not cancel the run for the others: any waiter drives it.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

use futures::future::{BoxFuture, FutureExt, Shared};

use crate::telemetry::measure::{self, Dedup};

type Run<V> = Shared<BoxFuture<'static, V>>;

/// The runs in flight, by key.
pub struct InFlight<K, V> {
    runs: Mutex<HashMap<K, Run<V>, ahash::RandomState>>,
    /// Which deduplication's metrics count the runs led and joined.
    counted: Option<Dedup>,
}

impl<K, V> Default for InFlight<K, V> {
    fn default() -> Self {
        InFlight {
            runs: Mutex::new(HashMap::default()),
            counted: None,
        }
    }
}

impl<K, V> InFlight<K, V> {
    /// Runs counted in the `tellonce_dedup_total` metric as `which`.
    pub fn counted_as(which: Dedup) -> Self {
        InFlight {
            counted: Some(which),
            ..InFlight::default()
        }
    }
}

impl<K, V> InFlight<K, V>
where
    K: Hash + Eq + Clone,
    V: Clone + Send + Sync + 'static,
{
    /// Runs `work` for `key`, or joins the run already in flight for it
    /// (then `work` is dropped without being polled).
    pub async fn run<F>(&self, key: K, work: F) -> V
    where
        F: Future<Output = V> + Send + 'static,
    {
        let (run, joined) = {
            let mut runs = self.lock();
            match runs.entry(key.clone()) {
                Entry::Occupied(running) => (running.get().clone(), true),
                Entry::Vacant(vacant) => (vacant.insert(work.boxed().shared()).clone(), false),
            }
        };
        if let Some(which) = self.counted {
            measure::dedup(which, joined);
        }
        let _retire = Retire {
            in_flight: self,
            key,
            run: run.clone(),
        };
        run.await
    }

    /// How many keys have a run in flight.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, Run<V>, ahash::RandomState>> {
        self.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Removes a run's key when one of its callers leaves; a later run under
/// the same key is left alone.
struct Retire<'a, K: Hash + Eq + Clone, V: Clone + Send + Sync + 'static> {
    in_flight: &'a InFlight<K, V>,
    key: K,
    run: Run<V>,
}

impl<K: Hash + Eq + Clone, V: Clone + Send + Sync + 'static> Drop for Retire<'_, K, V> {
    fn drop(&mut self) {
        let mut runs = self.in_flight.lock();
        if runs
            .get(&self.key)
            .is_some_and(|running| running.ptr_eq(&self.run))
        {
            runs.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    fn counted(calls: &Arc<AtomicUsize>, answer: u32) -> impl Future<Output = u32> + Send {
        let calls = calls.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            answer
        }
    }

    #[tokio::test]
    async fn callers_of_one_key_share_one_run() {
        let in_flight = InFlight::<&str, u32>::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let answers =
            futures::future::join_all((0..5u32).map(|i| in_flight.run("same", counted(&calls, i))))
                .await;
        assert_eq!(
            answers,
            vec![0; 5],
            "every caller gets the first run's answer"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(in_flight.is_empty(), "the key is retired once answered");
    }

    #[tokio::test]
    async fn different_keys_run_apart_and_later_callers_start_afresh() {
        let in_flight = InFlight::<u32, u32>::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let (a, b) = futures::join!(
            in_flight.run(1, counted(&calls, 10)),
            in_flight.run(2, counted(&calls, 20))
        );
        assert_eq!((a, b), (10, 20));
        assert_eq!(in_flight.run(1, counted(&calls, 11)).await, 11);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_cancelled_caller_does_not_cancel_the_others() {
        let in_flight = Arc::new(InFlight::<&str, u32>::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let first = {
            let in_flight = in_flight.clone();
            let work = counted(&calls, 7);
            tokio::spawn(async move { in_flight.run("k", work).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        let second = {
            let in_flight = in_flight.clone();
            let work = counted(&calls, 8);
            tokio::spawn(async move { in_flight.run("k", work).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        first.abort();
        assert_eq!(second.await.expect("second caller"), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(in_flight.is_empty());
    }
}
