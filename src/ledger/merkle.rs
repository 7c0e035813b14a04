//! The Merkle tree over entry hashes, exactly as RFC 6962 / RFC 9162:
//! SHA-256, leaf hash `H(0x00 || entry_hash)`, interior node `H(0x01 || left || right)`,
//! the empty tree's root `H("")`.
//!
//! A proof for any tree size is made of `O(log n)` *perfect* subtrees
//! (`2^level` leaves starting at `index * 2^level`, a [`NodeId`]), whose
//! hashes never change once their last leaf is appended. The store keeps
//! the hash of every perfect subtree of [`STORED_LEVEL_MIN`] levels or more,
//! written once when it completes; a lower one spans fewer than
//! `2^STORED_LEVEL_MIN` leaves and is recomputed from the entry hashes
//! ([`subtree_hash`]), which the entries table holds anyway. That stores one
//! node per eight entries instead of two per entry, and a proof still takes
//! `O(log n)` reads. [`Frontier`] is the compact range (the perfect subtrees
//! of the current tree, left to right) that makes each append O(1)
//! amortised without reading the tree back.
//!
//! Proof verification follows RFC 9162 §2.1.3.2 and §2.1.4.2.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// Hash length in bytes.
pub const HASH_LEN: usize = 32;

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Hash {
    Sha256::digest(data).into()
}

/// The RFC 6962 leaf hash of `data`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The RFC 6962 interior node hash.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree.
pub fn empty_root() -> Hash {
    sha256(b"")
}

/// A perfect subtree: `2^level` leaves starting at leaf `index << level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u32,
    pub index: u64,
}

/// Leaf indexes are kept below 2^56 so a node fits one signed 64-bit key.
pub const MAX_LEAVES: u64 = 1 << 56;

/// The lowest level whose subtree hashes are stored; lower ones (at most
/// `2^STORED_LEVEL_MIN / 2` leaves) are recomputed from entry hashes.
pub const STORED_LEVEL_MIN: u32 = 4;

impl NodeId {
    /// The node's storage key: `level * 2^56 + index`.
    pub fn key(self) -> i64 {
        ((u64::from(self.level) << 56) | self.index) as i64
    }

    /// The node a storage key names.
    pub fn from_key(key: i64) -> NodeId {
        let k = key as u64;
        NodeId {
            level: (k >> 56) as u32,
            index: k & (MAX_LEAVES - 1),
        }
    }

    /// The first leaf the node covers.
    pub fn first_leaf(self) -> u64 {
        self.index << self.level
    }

    /// The leaves the node covers.
    pub fn leaves(self) -> std::ops::Range<u64> {
        let first = self.first_leaf();
        first..first + (1u64 << self.level)
    }

    /// Whether the store keeps this node's hash (see [`STORED_LEVEL_MIN`]).
    pub fn is_stored(self) -> bool {
        self.level >= STORED_LEVEL_MIN
    }
}

/// The RFC 6962 hash of the tree over `entry_hashes` (the leaves' entry
/// hashes, left to right), computed bottom-up: pairing neighbours level by
/// level and carrying an odd last node up gives the same root as the RFC's
/// split at the largest power of two.
pub fn subtree_hash(entry_hashes: &[Hash]) -> Hash {
    let mut hashes: Vec<Hash> = entry_hashes.iter().map(|e| leaf_hash(e)).collect();
    let mut n = hashes.len();
    while n > 1 {
        for i in 0..n / 2 {
            hashes[i] = node_hash(&hashes[2 * i], &hashes[2 * i + 1]);
        }
        if n % 2 == 1 {
            hashes[n / 2] = hashes[n - 1];
        }
        n = n.div_ceil(2);
    }
    hashes.first().copied().unwrap_or_else(empty_root)
}

/// Proof generation or verification failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not below tree size {size}")]
    IndexBeyondSize { index: u64, size: u64 },
    #[error("tree size {from} is greater than tree size {to}")]
    SizesReversed { from: u64, to: u64 },
    #[error("a consistency proof from the empty tree proves nothing")]
    FromEmptyTree,
    #[error("a hash is {0} bytes, not 32")]
    HashLength(usize),
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
    #[error("a stored subtree hash is missing: {0:?}")]
    MissingNode(NodeId),
}

/// The perfect subtrees of a tree, largest (leftmost) first: one per set bit
/// of the tree size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Rebuilds a frontier from its size and serialized hashes
    /// (see [`Frontier::to_bytes`]).
    pub fn from_bytes(size: u64, bytes: &[u8]) -> Option<Frontier> {
        if bytes.len() != size.count_ones() as usize * HASH_LEN {
            return None;
        }
        let hashes = bytes
            .chunks_exact(HASH_LEN)
            .map(|c| {
                let mut h = [0u8; HASH_LEN];
                h.copy_from_slice(c);
                h
            })
            .collect();
        Some(Frontier { size, hashes })
    }

    /// The hashes, concatenated, largest subtree first.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.hashes.concat()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf (already leaf-hashed) and calls `completed` for every
    /// perfect subtree the leaf completes, the leaf itself (level 0) first.
    pub fn push(&mut self, leaf: Hash, mut completed: impl FnMut(NodeId, &Hash)) {
        let index = self.size;
        completed(NodeId { level: 0, index }, &leaf);
        let mut hash = leaf;
        let mut level = 0u32;
        // Each trailing one bit of the old size is a left sibling to merge.
        while (index >> level) & 1 == 1 {
            let left = self.hashes.pop().unwrap_or_default();
            hash = node_hash(&left, &hash);
            level += 1;
            completed(
                NodeId {
                    level,
                    index: index >> level,
                },
                &hash,
            );
        }
        self.hashes.push(hash);
        self.size += 1;
    }

    /// The tree's root hash.
    pub fn root(&self) -> Hash {
        let mut iter = self.hashes.iter().rev();
        match iter.next() {
            None => empty_root(),
            Some(last) => iter.fold(*last, |acc, left| node_hash(left, &acc)),
        }
    }
}

/// Largest power of two strictly below `n` (n >= 2).
fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// A half-open leaf range `[start, end)` that appears as a subtree in the
/// RFC 6962 decomposition of some tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafRange {
    pub start: u64,
    pub end: u64,
}

impl LeafRange {
    /// The perfect subtrees whose hashes make up this range's hash.
    fn nodes(self, out: &mut Vec<NodeId>) {
        let (mut start, end) = (self.start, self.end);
        while start < end {
            let len = end - start;
            let size = if len.is_power_of_two() {
                len
            } else {
                split_point(len)
            };
            let level = size.trailing_zeros();
            out.push(NodeId {
                level,
                index: start >> level,
            });
            start += size;
        }
    }
}

/// The subtrees whose hashes form the inclusion proof of `index` in a tree
/// of `size` leaves, lowest first.
pub fn inclusion_ranges(index: u64, size: u64) -> Result<Vec<LeafRange>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexBeyondSize { index, size });
    }
    let mut out = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            out.push(LeafRange {
                start: lo + k,
                end: hi,
            });
            hi = lo + k;
        } else {
            out.push(LeafRange {
                start: lo,
                end: lo + k,
            });
            lo += k;
        }
    }
    out.reverse();
    Ok(out)
}

/// The subtrees whose hashes form the consistency proof from `from` to `to`
/// leaves (RFC 6962 §2.1.2 SUBPROOF), lowest first. Empty when the sizes are
/// equal.
pub fn consistency_ranges(from: u64, to: u64) -> Result<Vec<LeafRange>, ProofError> {
    if from > to {
        return Err(ProofError::SizesReversed { from, to });
    }
    if from == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    let mut out = Vec::new();
    if from == to {
        return Ok(out);
    }
    let (mut lo, mut hi, mut m, mut complete) = (0u64, to, from, true);
    loop {
        let len = hi - lo;
        if m == len {
            if !complete {
                out.push(LeafRange { start: lo, end: hi });
            }
            break;
        }
        let k = split_point(len);
        if m <= k {
            out.push(LeafRange {
                start: lo + k,
                end: hi,
            });
            hi = lo + k;
        } else {
            out.push(LeafRange {
                start: lo,
                end: lo + k,
            });
            lo += k;
            m -= k;
            complete = false;
        }
    }
    out.reverse();
    Ok(out)
}

/// The ranges' node ids, in order, each range's nodes consecutive.
pub fn nodes_for(ranges: &[LeafRange]) -> Vec<NodeId> {
    let mut ids = Vec::with_capacity(ranges.len() + 8);
    for range in ranges {
        range.nodes(&mut ids);
    }
    ids
}

/// Folds fetched node hashes (in the order [`nodes_for`] gave) into one hash
/// per range.
pub fn fold_ranges(
    ranges: &[LeafRange],
    node_hashes: &std::collections::HashMap<NodeId, Hash>,
) -> Result<Vec<Hash>, ProofError> {
    let mut out = Vec::with_capacity(ranges.len());
    let mut ids = Vec::new();
    for range in ranges {
        ids.clear();
        range.nodes(&mut ids);
        let mut hashes = Vec::with_capacity(ids.len());
        for id in &ids {
            hashes.push(*node_hashes.get(id).ok_or(ProofError::MissingNode(*id))?);
        }
        let mut iter = hashes.iter().rev();
        let last = iter.next().ok_or(ProofError::WrongLength)?;
        out.push(iter.fold(*last, |acc, left| node_hash(left, &acc)));
    }
    Ok(out)
}

fn to_hash(bytes: &[u8]) -> Result<Hash, ProofError> {
    bytes
        .try_into()
        .map_err(|_| ProofError::HashLength(bytes.len()))
}

/// Checks that `leaf` (a leaf hash) is at `index` in the tree of `size`
/// leaves with root `root`.
pub fn verify_inclusion<P: AsRef<[u8]>>(
    index: u64,
    size: u64,
    leaf: &[u8],
    proof: &[P],
    root: &[u8],
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexBeyondSize { index, size });
    }
    let leaf = to_hash(leaf)?;
    let root = to_hash(root)?;
    let (mut f, mut s) = (index, size - 1);
    let mut r = leaf;
    for p in proof {
        let p = to_hash(p.as_ref())?;
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(&p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, &p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `from` leaves with root `root1` is a prefix of
/// the tree of `to` leaves with root `root2`.
pub fn verify_consistency<P: AsRef<[u8]>>(
    from: u64,
    to: u64,
    root1: &[u8],
    root2: &[u8],
    proof: &[P],
) -> Result<(), ProofError> {
    if from > to {
        return Err(ProofError::SizesReversed { from, to });
    }
    if from == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    if from == to {
        // Equal sizes: nothing to prove but that the roots are the same bytes.
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let root1 = to_hash(root1)?;
    let root2 = to_hash(root2)?;
    let mut path = Vec::with_capacity(proof.len() + 1);
    if from.is_power_of_two() {
        path.push(root1);
    }
    for p in proof {
        path.push(to_hash(p.as_ref())?);
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let (mut f, mut s) = (from - 1, to - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut fr = path[0];
    let mut sr = path[0];
    for c in &path[1..] {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != root1 || sr != root2 {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn build(n: u64) -> (Vec<Frontier>, HashMap<NodeId, Hash>) {
        let mut f = Frontier::new();
        let mut nodes = HashMap::new();
        let mut roots = vec![f.clone()];
        for i in 0..n {
            f.push(leaf_hash(&i.to_be_bytes()), |id, h| {
                nodes.insert(id, *h);
            });
            roots.push(f.clone());
        }
        (roots, nodes)
    }

    #[test]
    fn generated_proofs_verify_for_every_size() {
        let (fronts, nodes) = build(70);
        for size in 1..=70u64 {
            let root = fronts[size as usize].root();
            for index in 0..size {
                let ranges = inclusion_ranges(index, size).unwrap();
                let proof = fold_ranges(&ranges, &nodes).unwrap();
                let leaf = nodes[&NodeId { level: 0, index }];
                verify_inclusion(index, size, &leaf, &proof, &root).unwrap();
            }
            for from in 1..=size {
                let ranges = consistency_ranges(from, size).unwrap();
                let proof = fold_ranges(&ranges, &nodes).unwrap();
                let old = fronts[from as usize].root();
                verify_consistency(from, size, &old, &root, &proof).unwrap();
            }
        }
    }

    #[test]
    fn subtree_hash_is_the_tree_root_for_every_size() {
        let entries: Vec<Hash> = (0..40u64).map(|i| sha256(&i.to_be_bytes())).collect();
        let mut f = Frontier::new();
        assert_eq!(subtree_hash(&[]), f.root());
        for (i, e) in entries.iter().enumerate() {
            f.push(leaf_hash(e), |_, _| {});
            assert_eq!(subtree_hash(&entries[..=i]), f.root());
        }
    }

    #[test]
    fn node_keys_round_trip() {
        let id = NodeId {
            level: 40,
            index: 12345,
        };
        assert_eq!(NodeId::from_key(id.key()), id);
    }
}
