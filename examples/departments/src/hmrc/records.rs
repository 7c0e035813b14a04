//! HMRC's in-memory records: taxpayers, companies' tax registrations, traders and the
//! notification journal.

use crate::notification_journal::{NotificationEffect, NotificationJournal};
use crate::shared_types::{Address, Date};
use async_graphql::{Enum, SimpleObject};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// An address and the period HMRC held it.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct AddressPeriod {
    pub address: Address,
    pub from: Date,
    /// The last day at this address; absent for the current address.
    pub until: Option<Date>,
}

/// Where a self-assessment return is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ReturnStatus {
    Outstanding,
    Received,
    Processed,
    /// No longer required (e.g. the taxpayer died before the filing date).
    Withdrawn,
}

/// One self-assessment tax return.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct SelfAssessmentReturn {
    /// The tax year, e.g. `2024-25`.
    pub tax_year: String,
    pub status: ReturnStatus,
    pub filed_on: Option<Date>,
    /// Total income declared, in pence.
    pub total_income_pence: Option<i32>,
    /// Income tax and Class 4 NICs due, in pence.
    pub tax_due_pence: Option<i32>,
}

/// A VAT registration.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct VatRegistration {
    pub vat_number: String,
    pub trading_name: String,
    pub effective_from: Date,
}

/// A corporation tax registration.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct CorporationTaxRegistration {
    /// The company's corporation tax Unique Taxpayer Reference.
    pub utr: String,
    pub registered_on: Date,
    pub first_accounting_period_starts_on: Date,
}

/// A person HMRC holds a record for.
#[derive(Debug, Clone)]
pub struct TaxpayerRecord {
    pub nino: String,
    pub given_names: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub utr: Option<String>,
    pub date_of_death: Option<NaiveDate>,
    /// The address HMRC writes to now (its `until` is empty).
    pub current_address: AddressPeriod,
    /// Earlier addresses, oldest first.
    pub previous_addresses: Vec<AddressPeriod>,
    pub returns: Vec<SelfAssessmentReturn>,
    /// How the taxpayer chose to hear from HMRC.
    pub correspondence: super::CorrespondencePreference,
    /// Children Child Benefit is claimed for: given names, family name, date of birth.
    pub child_benefit: Vec<(String, String, NaiveDate)>,
    /// The spouse or civil partner (for Marriage Allowance) and since when.
    pub partner: Option<(String, NaiveDate)>,
}

impl TaxpayerRecord {
    /// Move to `address` from `moved_on`, closing the current period the day before.
    pub fn move_to(&mut self, address: Address, moved_on: NaiveDate) -> NotificationEffect {
        if self.current_address.address == address {
            return NotificationEffect::already_up_to_date(
                "this is already the address HMRC holds",
            );
        }
        let summary = address.one_line();
        let mut previous = std::mem::replace(
            &mut self.current_address,
            AddressPeriod {
                address,
                from: Date(moved_on),
                until: None,
            },
        );
        previous.until = Some(Date(moved_on.pred_opt().unwrap_or(moved_on)));
        self.previous_addresses.push(previous);
        NotificationEffect::applied(vec![format!(
            "correspondence address changed to {summary} from {moved_on}"
        )])
    }
}
/// What HMRC holds about a company.
#[derive(Debug, Clone)]
pub struct CompanyTaxRecord {
    pub vat: Option<VatRegistration>,
    pub corporation_tax: Option<CorporationTaxRegistration>,
    /// When the company stopped trading (its last accounting period ends then).
    pub ceased_on: Option<NaiveDate>,
}

/// An EORI registration.
#[derive(Debug, Clone)]
pub struct TraderRecord {
    pub eori: String,
    pub name: String,
    pub address: Address,
    pub vat_number: Option<String>,
    pub company_number: Option<String>,
}

/// Everything HMRC holds, behind one lock.
#[derive(Debug)]
pub struct HmrcRecords {
    pub taxpayers: BTreeMap<String, TaxpayerRecord>,
    pub companies: BTreeMap<String, CompanyTaxRecord>,
    pub traders: BTreeMap<String, TraderRecord>,
    pub journal: NotificationJournal,
    pub next_utr_serial: u32,
}
