//! DWP's in-memory records: claimants, claims and the notification journal.

use crate::notification_journal::NotificationJournal;
use crate::shared_types::Address;
use async_graphql::Enum;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// A benefit DWP administers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Benefit {
    StatePension,
    UniversalCredit,
    PersonalIndependencePayment,
    AttendanceAllowance,
    CarersAllowance,
    EmploymentAndSupportAllowance,
    JobseekersAllowance,
}

impl Benefit {
    pub fn title(self) -> &'static str {
        match self {
            Benefit::StatePension => "State Pension",
            Benefit::UniversalCredit => "Universal Credit",
            Benefit::PersonalIndependencePayment => "Personal Independence Payment",
            Benefit::AttendanceAllowance => "Attendance Allowance",
            Benefit::CarersAllowance => "Carer's Allowance",
            Benefit::EmploymentAndSupportAllowance => "Employment and Support Allowance",
            Benefit::JobseekersAllowance => "Jobseeker's Allowance",
        }
    }
}

/// Whether a claim is being paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ClaimStatus {
    InPayment,
    Suspended,
    Ended,
}

/// How often a claim pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PaymentFrequency {
    Weekly,
    FourWeekly,
    Monthly,
}

/// A person who has claimed a benefit.
#[derive(Debug, Clone)]
pub struct ClaimantRecord {
    pub nino: String,
    pub name: String,
    pub address: Address,
    pub date_of_death: Option<NaiveDate>,
    /// The spouse or civil partner (claims are assessed as a couple) and since when.
    pub partner: Option<(String, NaiveDate)>,
}

/// One claim.
#[derive(Debug, Clone)]
pub struct ClaimRecord {
    pub claim_id: String,
    pub nino: String,
    pub benefit: Benefit,
    pub status: ClaimStatus,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub amount_pence: i32,
    pub payment_frequency: PaymentFrequency,
}

/// Everything DWP holds, behind one lock.
#[derive(Debug)]
pub struct DwpRecords {
    pub claimants: BTreeMap<String, ClaimantRecord>,
    pub claims: Vec<ClaimRecord>,
    pub journal: NotificationJournal,
}
