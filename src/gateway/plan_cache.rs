//! Maps from an operation's cache key to its prepared form (parsed,
//! validated, planned, fetch bodies rendered), bounded by the bytes they
//! hold rather than by count: one large document cannot pin more than its
//! share. They belong to one supergraph, so a reload starts empty.

use std::hash::Hash;
use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::Weighter;

use super::executor::plan::{ExecNode, ExecutablePlan};
use super::prepare::PreparedOperation;

/// Bytes of prepared documents one supergraph keeps.
pub const DOCUMENT_CACHE_BYTES: u64 = 64 << 20;
/// Bytes of query plans one supergraph keeps.
pub const PLAN_CACHE_BYTES: u64 = 64 << 20;
/// What a typical entry weighs, to size the maps up front.
const TYPICAL_ENTRY_BYTES: u64 = 16 << 10;

/// An estimate of the heap a cached value holds, in bytes: its texts at
/// their length and each parsed node at a fixed size. Estimates err high.
pub trait CacheWeight {
    fn cache_weight(&self) -> u64;
}

#[derive(Clone)]
struct ByWeight;

impl<K, V: CacheWeight> Weighter<K, Arc<V>> for ByWeight {
    fn weight(&self, _key: &K, value: &Arc<V>) -> u64 {
        // A zero weight would never be evicted.
        value.cache_weight().max(1)
    }
}

/// A concurrent cache that evicts the least valuable entries once the
/// weights of its entries reach `capacity_bytes`; an entry heavier than the
/// whole cache is not kept.
pub struct BoundedCache<K, V> {
    inner: Cache<K, Arc<V>, ByWeight>,
}

impl<K: Hash + Eq + Clone, V: CacheWeight> BoundedCache<K, V> {
    pub fn new(capacity_bytes: u64) -> Self {
        let estimated_items = (capacity_bytes / TYPICAL_ENTRY_BYTES).max(16) as usize;
        BoundedCache {
            inner: Cache::with_weighter(estimated_items, capacity_bytes.max(1), ByWeight),
        }
    }

    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        self.inner.get(key)
    }

    pub fn insert(&self, key: K, value: Arc<V>) {
        self.inner.insert(key, value);
    }

    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The summed weights of the entries held, in bytes.
    pub fn weight(&self) -> u64 {
        self.inner.weight()
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
    pub(crate) plans: BoundedCache<(u64, Option<String>), ExecutablePlan>,
}

impl PlanCache {
    pub fn new(document_bytes: u64, plan_bytes: u64) -> Self {
        PlanCache {
            key_hasher: ahash::RandomState::new(),
            documents: BoundedCache::new(document_bytes),
            plans: BoundedCache::new(plan_bytes),
        }
    }

    /// Number of distinct plans held.
    pub fn plan_count(&self) -> usize {
        self.plans.len()
    }

    /// Bytes held by documents and plans (estimated, see [`CacheWeight`]).
    pub fn weight(&self) -> u64 {
        self.documents.weight() + self.plans.weight()
    }
}

/// Bytes counted for each parsed node (field, fetch, path step).
pub(crate) const NODE_BYTES: u64 = 160;

impl CacheWeight for ExecutablePlan {
    fn cache_weight(&self) -> u64 {
        let nodes = self.root.as_ref().map_or(0, node_weight);
        std::mem::size_of::<Self>() as u64 + self.display.len() as u64 + nodes
    }
}

fn node_weight(node: &ExecNode) -> u64 {
    match node {
        ExecNode::Fetch(fetch) | ExecNode::Flatten { fetch, .. } => {
            NODE_BYTES * (1 + fetch.variable_usages.len() as u64)
                + 2 * fetch.query_json.len() as u64
        }
        ExecNode::Batch(batch) => {
            NODE_BYTES * (1 + batch.aliases.len() as u64 * 4) + 2 * batch.query_json.len() as u64
        }
        ExecNode::Sequence(nodes) | ExecNode::Parallel(nodes) => {
            NODE_BYTES + nodes.iter().map(node_weight).sum::<u64>()
        }
        ExecNode::Condition {
            if_clause,
            else_clause,
            ..
        } => {
            NODE_BYTES
                + if_clause.as_deref().map_or(0, node_weight)
                + else_clause.as_deref().map_or(0, node_weight)
        }
        ExecNode::Subscription { primary, rest } => {
            NODE_BYTES * (1 + primary.variable_usages.len() as u64)
                + 2 * primary.query_json.len() as u64
                + rest.as_deref().map_or(0, node_weight)
        }
        ExecNode::Unsupported(_) => NODE_BYTES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Blob(u64);

    impl CacheWeight for Blob {
        fn cache_weight(&self) -> u64 {
            self.0
        }
    }

    #[test]
    fn holds_no_more_bytes_than_its_capacity() {
        let cache: BoundedCache<u64, Blob> = BoundedCache::new(1 << 20);
        for key in 0..10_000 {
            cache.insert(key, Arc::new(Blob(10 << 10)));
            assert!(cache.weight() <= 1 << 20, "weight {}", cache.weight());
        }
        assert!(cache.len() <= 103, "{} entries held", cache.len());
        assert!(
            cache.len() >= 50,
            "the cache still caches ({})",
            cache.len()
        );
    }

    #[test]
    fn an_entry_heavier_than_the_cache_is_not_kept() {
        let cache: BoundedCache<u64, Blob> = BoundedCache::new(1 << 20);
        cache.insert(1, Arc::new(Blob(2 << 20)));
        assert!(cache.get(&1).is_none());
        assert_eq!(cache.weight(), 0);
    }
}
