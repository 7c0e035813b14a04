//! Real time: what the ledger records is announced to subscribers as it
//! happens, on this hub instance and on every other one.
//!
//! The ledger is the source of truth and the broker only a doorbell. One
//! [`LedgerTail`] per instance reads each new entry once, in sequence order,
//! and broadcasts it to the local subscribers; a broker tells the other
//! instances' tails that the ledger grew (in process: nothing to tell; Redis
//! pub/sub: one message per growth). A tail also looks on its own every
//! `poll_interval_ms`, so a lost message (Redis down) costs latency, never an
//! entry. A subscriber resumes from a ledger cursor by reading what it missed
//! from the store before it follows the tail: no gap and no duplicate.

mod broker;
mod config;
mod tail;

pub use broker::Broker;
pub use config::EventsConfig;
pub use tail::{LedgerBatch, LedgerTail, TailEntry, TailLagged, TailReceiver};
