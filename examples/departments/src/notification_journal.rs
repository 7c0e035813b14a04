//! Applies each notification's idempotency key exactly once and keeps the receipts.
//!
//! A second request with the same key and the same content returns the first receipt and
//! changes nothing; the same key with different content is refused as a conflict.

use crate::department_error::DepartmentError;
use crate::shared_types::{
    NotificationKind, NotificationLog, NotificationOutcome, NotificationReceipt,
};
use chrono::Utc;
use std::collections::HashMap;

const MAX_KEY_LENGTH: usize = 200;

/// What a notification asks, in a form that can be compared with an earlier request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRequest {
    pub kind: NotificationKind,
    pub subject: String,
    /// Every other argument, normalised (e.g. `dateOfDeath=2026-10-01`).
    pub details: String,
}

/// What applying a notification did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationEffect {
    pub outcome: NotificationOutcome,
    pub effects: Vec<String>,
}

impl NotificationEffect {
    pub fn applied(effects: Vec<String>) -> Self {
        NotificationEffect {
            outcome: NotificationOutcome::Applied,
            effects,
        }
    }

    pub fn already_up_to_date(note: impl Into<String>) -> Self {
        NotificationEffect {
            outcome: NotificationOutcome::AlreadyUpToDate,
            effects: vec![note.into()],
        }
    }

    pub fn no_matching_record(note: impl Into<String>) -> Self {
        NotificationEffect {
            outcome: NotificationOutcome::NoMatchingRecord,
            effects: vec![note.into()],
        }
    }
}

/// One department's record of the notifications it has received.
#[derive(Debug)]
pub struct NotificationJournal {
    receipt_prefix: &'static str,
    entries: Vec<(NotificationRequest, NotificationReceipt)>,
    by_key: HashMap<String, usize>,
    /// Receipts whose outcome was `APPLIED`.
    applied: usize,
}

impl NotificationJournal {
    /// `receipt_prefix` starts every receipt id, e.g. `HMRC`.
    pub fn new(receipt_prefix: &'static str) -> Self {
        NotificationJournal {
            receipt_prefix,
            entries: Vec::new(),
            by_key: HashMap::new(),
            applied: 0,
        }
    }

    /// Check a key before any other work, so a bad key changes nothing.
    pub fn check_key(key: &str) -> Result<(), DepartmentError> {
        if key.trim().is_empty() || key.chars().count() > MAX_KEY_LENGTH {
            return Err(DepartmentError::argument(
                "idempotencyKey",
                "IDEMPOTENCY_KEY_LENGTH",
                format!("must be 1 to {MAX_KEY_LENGTH} characters"),
            ));
        }
        Ok(())
    }

    /// Apply `request` once for `key`: the first time, run `apply` and keep its receipt;
    /// afterwards, return that receipt without running `apply`.
    pub fn apply_once(
        &mut self,
        key: &str,
        request: NotificationRequest,
        apply: impl FnOnce() -> Result<NotificationEffect, DepartmentError>,
    ) -> Result<NotificationReceipt, DepartmentError> {
        Self::check_key(key)?;
        if let Some(&index) = self.by_key.get(key) {
            let (earlier, receipt) = &self.entries[index];
            if *earlier != request {
                return Err(DepartmentError::IdempotencyKeyReused {
                    key: key.to_string(),
                });
            }
            return Ok(receipt.clone());
        }
        let effect = apply()?;
        let receipt = NotificationReceipt {
            receipt_id: format!("{}-{:06}", self.receipt_prefix, self.entries.len() + 1),
            idempotency_key: key.to_string(),
            kind: request.kind,
            subject: request.subject.clone(),
            outcome: effect.outcome,
            effects: effect.effects,
            applied_at: Utc::now(),
        };
        if receipt.outcome == NotificationOutcome::Applied {
            self.applied += 1;
        }
        self.by_key.insert(key.to_string(), self.entries.len());
        self.entries.push((request, receipt.clone()));
        Ok(receipt)
    }

    /// All receipts, oldest first, with counts.
    /// The counts, and the most recent `last` receipts, oldest first.
    pub fn log(&self, last: usize) -> NotificationLog {
        let skip = self.entries.len().saturating_sub(last);
        NotificationLog {
            count: i32::try_from(self.entries.len()).unwrap_or(i32::MAX),
            applied_count: i32::try_from(self.applied).unwrap_or(i32::MAX),
            receipts: self.entries[skip..]
                .iter()
                .map(|(_, r)| r.clone())
                .collect(),
        }
    }

    /// The receipt for an idempotency key, if it has been applied.
    pub fn receipt(&self, key: &str) -> Option<NotificationReceipt> {
        self.by_key
            .get(key)
            .map(|&index| self.entries[index].1.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn death(subject: &str) -> NotificationRequest {
        NotificationRequest {
            kind: NotificationKind::Death,
            subject: subject.to_string(),
            details: "dateOfDeath=2026-10-01".to_string(),
        }
    }

    #[test]
    fn same_key_applies_once_and_returns_the_first_receipt() {
        let mut journal = NotificationJournal::new("TEST");
        let mut runs = 0;
        let first = journal
            .apply_once("k1", death("JK528194C"), || {
                runs += 1;
                Ok(NotificationEffect::applied(vec!["marked deceased".into()]))
            })
            .unwrap();
        let second = journal
            .apply_once("k1", death("JK528194C"), || {
                runs += 1;
                Ok(NotificationEffect::applied(vec![]))
            })
            .unwrap();
        assert_eq!(first, second);
        assert_eq!(runs, 1);
        assert_eq!(journal.log(10).count, 1);
    }

    #[test]
    fn same_key_with_different_request_is_a_conflict_and_changes_nothing() {
        let mut journal = NotificationJournal::new("TEST");
        journal
            .apply_once("k1", death("JK528194C"), || {
                Ok(NotificationEffect::applied(vec![]))
            })
            .unwrap();
        let err = journal
            .apply_once("k1", death("SP347102A"), || {
                Ok(NotificationEffect::applied(vec![]))
            })
            .unwrap_err();
        assert_eq!(err.code(), "CONFLICT");
        assert_eq!(journal.log(10).count, 1);
    }

    #[test]
    fn a_failed_apply_does_not_consume_the_key() {
        let mut journal = NotificationJournal::new("TEST");
        let err = journal.apply_once("k1", death("JK528194C"), || {
            Err(DepartmentError::Conflict("no".into()))
        });
        assert!(err.is_err());
        assert_eq!(journal.log(10).count, 0);
        assert!(journal
            .apply_once("k1", death("JK528194C"), || Ok(
                NotificationEffect::applied(vec![])
            ))
            .is_ok());
    }
}
