//! The signed, hash-chained, Merkle-proved audit ledger.
