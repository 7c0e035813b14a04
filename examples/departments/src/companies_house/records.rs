//! Companies House's in-memory register: companies, officers, filings and the notification journal.

use crate::notification_journal::NotificationJournal;
use crate::shared_types::{Address, Date};
use async_graphql::{Enum, SimpleObject};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Where a company is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum CompanyStatus {
    Active,
    Liquidation,
    Dissolved,
}

/// The legal form of a registered entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum CompanyType {
    PrivateLimitedCompany,
    PublicLimitedCompany,
    LimitedLiabilityPartnership,
    LimitedPartnership,
}

/// The register a company number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Jurisdiction {
    EnglandAndWales,
    Scotland,
    NorthernIreland,
}

impl Jurisdiction {
    /// Read the jurisdiction from a company number's prefix.
    pub fn of(company_number: &str) -> Jurisdiction {
        match company_number.get(..2) {
            Some("SC" | "SO" | "SL" | "SF" | "SZ" | "SA" | "SR" | "SP" | "SE" | "SI" | "GS") => {
                Jurisdiction::Scotland
            }
            Some("NI" | "NC" | "NL" | "NF" | "NZ" | "NA" | "NR" | "NP" | "NO" | "GN" | "R0") => {
                Jurisdiction::NorthernIreland
            }
            _ => Jurisdiction::EnglandAndWales,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Jurisdiction::EnglandAndWales => "England and Wales",
            Jurisdiction::Scotland => "Scotland",
            Jurisdiction::NorthernIreland => "Northern Ireland",
        }
    }
}

/// An officer's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum OfficerRole {
    Director,
    Secretary,
    LlpDesignatedMember,
    LlpMember,
}

/// A director, secretary or LLP member, as shown on the public register.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct Officer {
    /// Surname first, upper case, as the register shows it, e.g. `OKAFOR, David John`.
    pub name: String,
    pub role: OfficerRole,
    pub appointed_on: Date,
    pub resigned_on: Option<Date>,
    pub nationality: String,
    pub country_of_residence: String,
    pub occupation: Option<String>,
}

/// The kind of a filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum FilingCategory {
    Incorporation,
    ConfirmationStatement,
    Accounts,
    Officers,
    Address,
    Dissolution,
}

/// One document on the company's filing history.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct Filing {
    pub date: Date,
    pub category: FilingCategory,
    /// The Companies House form, e.g. `CS01`.
    pub form_type: String,
    pub description: String,
}

/// One company on the register.
#[derive(Debug, Clone)]
pub struct CompanyRecord {
    pub company_number: String,
    pub company_name: String,
    pub company_status: CompanyStatus,
    pub company_type: CompanyType,
    pub incorporated_on: NaiveDate,
    pub dissolved_on: Option<NaiveDate>,
    pub registered_office: Address,
    pub sic_codes: Vec<String>,
    pub officers: Vec<Officer>,
    pub filings: Vec<Filing>,
}

/// The whole register, behind one lock.
#[derive(Debug)]
pub struct CompaniesHouseRecords {
    pub companies: BTreeMap<String, CompanyRecord>,
    pub journal: NotificationJournal,
}
