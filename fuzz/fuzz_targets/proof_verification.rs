//! Merkle proof verification and proof construction (src/ledger/merkle.rs).
//!
//! * `Raw`: arbitrary indices, sizes, leaf/root byte strings and proofs fed
//!   to `verify_inclusion` and `verify_consistency` (must never panic, and
//!   must refuse hashes that are not 32 bytes).
//! * `Ranges`: `inclusion_ranges`, `consistency_ranges` and `nodes_for` for
//!   any sizes up to `MAX_LEAVES`: no panic, ranges inside the tree, an
//!   inclusion proof's ranges plus the leaf partition the tree.
//! * `Tree`: a real tree of up to 300 leaves; proofs built the way the
//!   ledger builds them (`fold_ranges` over subtree hashes) must verify, and
//!   one tampered byte, a wrong index, or a proof one hash longer or shorter
//!   must not. `subtree_hash` must equal the frontier's root, and a
//!   frontier must survive `to_bytes`/`from_bytes`.
//! * `Frontier`: `Frontier::from_bytes` on arbitrary bytes, then pushes.
//! * `Node`: `NodeId` storage keys round-trip.
#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tellonce::ledger::merkle::{
    consistency_ranges, fold_ranges, inclusion_ranges, leaf_hash, nodes_for, sha256,
    subtree_hash, verify_consistency, verify_inclusion, Frontier, Hash, NodeId, ProofError,
    MAX_LEAVES,
};

#[derive(Debug, Arbitrary)]
enum Tamper {
    ProofByte(u8, u8, u8),
    LeafByte(u8, u8),
    RootByte(u8, u8),
    OldRootByte(u8, u8),
    DropLast,
    AppendHash([u8; 32]),
    OtherIndex(u16),
}

#[derive(Debug, Arbitrary)]
enum Input {
    Raw {
        index: u64,
        size: u64,
        leaf: Vec<u8>,
        proof: Vec<Vec<u8>>,
        root: Vec<u8>,
        root2: Vec<u8>,
    },
    Ranges {
        a: u64,
        b: u64,
    },
    Tree {
        leaves: u16,
        size: u16,
        index: u16,
        from: u16,
        salt: u8,
        tamper: Tamper,
    },
    Frontier {
        size: u64,
        bytes: Vec<u8>,
        pushes: u8,
    },
    Node {
        level: u8,
        index: u64,
    },
}

fn raw(index: u64, size: u64, leaf: &[u8], proof: &[Vec<u8>], root: &[u8], root2: &[u8]) {
    let r = verify_inclusion(index, size, leaf, proof, root);
    if r.is_ok() {
        assert!(index < size && leaf.len() == 32 && root.len() == 32);
        assert!(proof.iter().all(|p| p.len() == 32));
    }
    let (from, to) = (index, size);
    let r = verify_consistency(from, to, root, root2, proof);
    if r.is_ok() {
        assert!(from <= to && from > 0);
        if from < to {
            assert!(root.len() == 32 && root2.len() == 32);
            assert!(proof.iter().all(|p| p.len() == 32));
        }
    }
    // Same with the sizes the other way round and a proof of fixed-size hashes.
    let fixed: Vec<Hash> = proof.iter().map(|p| sha256(p)).collect();
    let _ = verify_inclusion(size, index, &sha256(leaf), &fixed, &sha256(root));
    let _ = verify_consistency(to, from, &sha256(root), &sha256(root2), &fixed);
}

fn check_ranges(a: u64, b: u64) {
    let size = a % MAX_LEAVES;
    let index = if size == 0 { b } else { b % size };
    match inclusion_ranges(index, size) {
        Ok(ranges) => {
            assert!(index < size);
            assert!(ranges.len() <= 64);
            let mut covered: Vec<(u64, u64)> = ranges.iter().map(|r| (r.start, r.end)).collect();
            covered.push((index, index + 1));
            covered.sort_unstable();
            let mut next = 0;
            for (start, end) in covered {
                assert_eq!(start, next, "inclusion ranges of {index} in {size} leave a gap");
                assert!(start < end);
                next = end;
            }
            assert_eq!(next, size);
            for id in nodes_for(&ranges) {
                let leaves = id.leaves();
                assert!(leaves.end <= size, "node {id:?} is beyond the tree");
            }
        }
        Err(e) => assert_eq!(e, ProofError::IndexBeyondSize { index, size }),
    }
    let (from, to) = (b % MAX_LEAVES, size);
    match consistency_ranges(from, to) {
        Ok(ranges) => {
            assert!(from <= to && from > 0);
            assert!(ranges.len() <= 128);
            assert_eq!(ranges.is_empty(), from == to);
            for r in &ranges {
                assert!(r.start < r.end && r.end <= to);
            }
            for id in nodes_for(&ranges) {
                assert!(id.leaves().end <= to);
            }
        }
        Err(_) => assert!(from > to || from == 0),
    }
}

fn flip(hash: &mut [u8], at: u8, mask: u8) {
    let at = usize::from(at) % hash.len();
    hash[at] ^= mask | 1;
}

fn tree(leaves: u16, size: u16, index: u16, from: u16, salt: u8, tamper: Tamper) {
    let n = 1 + u64::from(leaves) % 300;
    let entry_hashes: Vec<Hash> = (0..n).map(|i| sha256(&[&[salt][..], &i.to_be_bytes()].concat())).collect();
    let mut frontier = Frontier::new();
    let mut nodes: HashMap<NodeId, Hash> = HashMap::new();
    let mut roots = vec![frontier.root()];
    let mut frontiers = vec![frontier.clone()];
    for e in &entry_hashes {
        let before = frontier.size();
        let mut first = true;
        frontier.push(leaf_hash(e), |id, h| {
            if first {
                assert_eq!(id, NodeId { level: 0, index: before });
                first = false;
            }
            assert!(id.leaves().contains(&before), "completed node does not cover the new leaf");
            assert_eq!(id.leaves().end, before + 1, "a completed node ends at the new leaf");
            nodes.insert(id, *h);
        });
        roots.push(frontier.root());
        frontiers.push(frontier.clone());
    }
    let size = 1 + u64::from(size) % n;
    let index = u64::from(index) % size;
    let from = 1 + u64::from(from) % size;
    let root = roots[size as usize];
    assert_eq!(subtree_hash(&entry_hashes[..size as usize]), root);
    let f = &frontiers[size as usize];
    assert_eq!(Frontier::from_bytes(f.size(), &f.to_bytes()).as_ref(), Some(f));

    // Inclusion.
    let ranges = inclusion_ranges(index, size).unwrap();
    let mut proof = fold_ranges(&ranges, &nodes).expect("every node of a full tree is known");
    let mut leaf = nodes[&NodeId { level: 0, index }];
    assert_eq!(leaf, leaf_hash(&entry_hashes[index as usize]));
    verify_inclusion(index, size, &leaf, &proof, &root)
        .unwrap_or_else(|e| panic!("inclusion of {index} in {size}: {e}"));

    // Consistency.
    let old_root = roots[from as usize];
    let cranges = consistency_ranges(from, size).unwrap();
    let mut cproof = fold_ranges(&cranges, &nodes).expect("every node of a full tree is known");
    verify_consistency(from, size, &old_root, &root, &cproof)
        .unwrap_or_else(|e| panic!("consistency {from} -> {size}: {e}"));

    let mut root_t = root;
    let mut old_root_t = old_root;
    let mut index_t = index;
    match tamper {
        Tamper::ProofByte(which, at, mask) => {
            if !proof.is_empty() {
                let i = usize::from(which) % proof.len();
                flip(&mut proof[i], at, mask);
            }
            if !cproof.is_empty() {
                let i = usize::from(which) % cproof.len();
                flip(&mut cproof[i], at, mask);
            }
        }
        Tamper::LeafByte(at, mask) => flip(&mut leaf, at, mask),
        Tamper::RootByte(at, mask) => flip(&mut root_t, at, mask),
        Tamper::OldRootByte(at, mask) => flip(&mut old_root_t, at, mask),
        Tamper::DropLast => {
            proof.pop();
            cproof.pop();
        }
        Tamper::AppendHash(h) => {
            proof.push(h);
            cproof.push(h);
        }
        Tamper::OtherIndex(i) => index_t = u64::from(i) % size,
    }
    let inclusion_changed = match tamper {
        Tamper::ProofByte(..) | Tamper::DropLast => !ranges.is_empty(),
        Tamper::LeafByte(..) | Tamper::RootByte(..) | Tamper::AppendHash(_) => true,
        Tamper::OtherIndex(_) => index_t != index,
        Tamper::OldRootByte(..) => false,
    };
    let r = verify_inclusion(index_t, size, &leaf, &proof, &root_t);
    if inclusion_changed {
        assert!(r.is_err(), "tampered inclusion proof verified: {index}->{index_t} in {size}");
    } else {
        assert!(r.is_ok());
    }
    let consistency_changed = match tamper {
        Tamper::ProofByte(..) | Tamper::DropLast => !cranges.is_empty(),
        Tamper::RootByte(..) | Tamper::OldRootByte(..) | Tamper::AppendHash(_) => true,
        Tamper::LeafByte(..) | Tamper::OtherIndex(_) => false,
    };
    let r = verify_consistency(from, size, &old_root_t, &root_t, &cproof);
    if consistency_changed {
        assert!(r.is_err(), "tampered consistency proof verified: {from} -> {size}");
    } else {
        assert!(r.is_ok());
    }
}

fn frontier(size: u64, bytes: &[u8], pushes: u8) {
    // Sizes above MAX_LEAVES are outside the ledger's invariant (leaf
    // indexes fit 56 bits); keep the fuzzer below it.
    let size = size % (MAX_LEAVES - 256);
    let needed = size.count_ones() as usize * 32;
    if Frontier::from_bytes(size, bytes).is_none() {
        assert_ne!(bytes.len(), needed);
    }
    // Stretch the input to the length the size needs, so most inputs load.
    let bytes: Vec<u8> = if bytes.is_empty() {
        vec![0; needed]
    } else {
        bytes.iter().copied().cycle().take(needed).collect()
    };
    let mut f = Frontier::from_bytes(size, &bytes).expect("the right number of hashes loads");
    assert_eq!(f.to_bytes(), bytes);
    let _ = f.root();
    for i in 0..pushes {
        let before = f.size();
        f.push(leaf_hash(&[i]), |id, _| {
            assert!(id.leaves().contains(&before));
        });
        assert_eq!(f.size(), before + 1);
        assert_eq!(f.to_bytes().len(), f.size().count_ones() as usize * 32);
    }
    let _ = f.root();
}

fn node(level: u8, index: u64) {
    let level = u32::from(level) % 57;
    let index = index & ((MAX_LEAVES - 1) >> level);
    let id = NodeId { level, index };
    assert_eq!(NodeId::from_key(id.key()), id);
    let leaves = id.leaves();
    assert_eq!(leaves.end - leaves.start, 1u64 << level);
    assert_eq!(id.first_leaf(), leaves.start);
}

fuzz_target!(|input: Input| {
    match input {
        Input::Raw { index, size, leaf, proof, root, root2 } => {
            raw(index, size, &leaf, &proof, &root, &root2)
        }
        Input::Ranges { a, b } => check_ranges(a, b),
        Input::Tree { leaves, size, index, from, salt, tamper } => {
            tree(leaves, size, index, from, salt, tamper)
        }
        Input::Frontier { size, bytes, pushes } => frontier(size, &bytes, pushes),
        Input::Node { level, index } => node(level, index),
    }
});
