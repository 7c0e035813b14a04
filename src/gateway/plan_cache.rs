//! A bounded map from an operation's cache key to its prepared form (parsed,
//! validated, planned, fetch bodies rendered). It belongs to one supergraph, so
//! a reload starts with an empty cache.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use super::prepare::PreparedOperation;

/// Entries and their insertion order.
type Entries<K, V> = (HashMap<K, Arc<V>>, VecDeque<K>);

/// Evicts the oldest entry once `capacity` is reached.
pub struct BoundedCache<K, V> {
    capacity: usize,
    inner: Mutex<Entries<K, V>>,
}

impl<K: Hash + Eq + Clone, V> BoundedCache<K, V> {
    pub fn new(capacity: usize) -> Self {
        BoundedCache {
            capacity: capacity.max(1),
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.get(key).cloned()
    }

    pub fn insert(&self, key: K, value: Arc<V>) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *guard;
        if map.insert(key.clone(), value).is_none() {
            order.push_back(key);
            while map.len() > self.capacity {
                match order.pop_front() {
                    Some(old) => {
                        map.remove(&old);
                    }
                    None => break,
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Hash of a document's text and requested operation name (the cached entry
/// keeps both, so a collision is detected, not served).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocumentKey(pub u64);

/// The supergraph's caches: documents by their text (skips parsing and
/// validation on a repeat), plans by normalized operation hash and name (two
/// spellings of one operation share one plan).
pub struct PlanCache {
    /// Hashes document texts into `DocumentKey`s: keyed per process, and
    /// several times faster than SipHash on a long query text (each
    /// request hashes its text once, and the inbound deduplication check
    /// once more).
    pub(crate) key_hasher: ahash::RandomState,
    pub(crate) documents: BoundedCache<DocumentKey, PreparedOperation>,
    pub(crate) plans: BoundedCache<(u64, Option<String>), super::executor::plan::ExecutablePlan>,
}

impl PlanCache {
    pub fn new(capacity: usize) -> Self {
        PlanCache {
            key_hasher: ahash::RandomState::new(),
            documents: BoundedCache::new(capacity),
            plans: BoundedCache::new(capacity),
        }
    }

    /// Number of distinct plans held.
    pub fn plan_count(&self) -> usize {
        self.plans.len()
    }
}
