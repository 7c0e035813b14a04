//! DVLA's in-memory records: licences, vehicles and the notification journal.

use crate::notification_journal::NotificationJournal;
use crate::shared_types::{Address, Date};
use async_graphql::{Enum, SimpleObject};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Full or provisional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum LicenceType {
    Full,
    Provisional,
}

/// Whether the licence can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum LicenceStatus {
    Valid,
    Revoked,
    Disqualified,
    CancelledHolderDeceased,
}

/// A category of vehicle the holder may drive.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct Entitlement {
    /// The category code, e.g. `B`, `C1`, `D1`.
    pub category: String,
    pub valid_from: Date,
    pub valid_until: Date,
    pub provisional: bool,
}

/// An endorsement for a motoring offence.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct Endorsement {
    /// The offence code, e.g. `SP30` (exceeding a statutory speed limit on a public road).
    pub offence_code: String,
    pub offence_on: Date,
    pub convicted_on: Date,
    pub points: i32,
}

/// A vehicle's fuel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum FuelType {
    Petrol,
    Diesel,
    Electricity,
    HybridElectric,
}

/// Whether vehicle excise duty is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TaxStatus {
    Taxed,
    Untaxed,
    Sorn,
}

/// One driving licence.
#[derive(Debug, Clone)]
pub struct LicenceRecord {
    pub licence_number: String,
    pub issue_number: i32,
    pub nino: Option<String>,
    pub surname: String,
    pub first_names: String,
    pub date_of_birth: NaiveDate,
    pub address: Address,
    pub licence_type: LicenceType,
    pub status: LicenceStatus,
    pub photocard_issued_on: NaiveDate,
    pub photocard_expires_on: NaiveDate,
    pub entitlements: Vec<Entitlement>,
    pub endorsements: Vec<Endorsement>,
}

/// One registered vehicle.
#[derive(Debug, Clone)]
pub struct VehicleRecord {
    pub registration: String,
    pub make: String,
    pub model: String,
    pub colour: String,
    pub fuel_type: FuelType,
    pub year_of_manufacture: i32,
    pub co2_emissions: Option<i32>,
    pub tax_status: TaxStatus,
    pub tax_due_on: Option<NaiveDate>,
    pub mot_expires_on: Option<NaiveDate>,
    /// The keeper, when a person matched by NINO (fleet vehicles have none).
    pub keeper_nino: Option<String>,
    pub keeper_address: Address,
    pub keeper_deceased: bool,
}

/// Everything DVLA holds, behind one lock.
#[derive(Debug)]
pub struct DvlaRecords {
    /// By driver number.
    pub licences: BTreeMap<String, LicenceRecord>,
    /// By registration (`AB12 CDE`).
    pub vehicles: BTreeMap<String, VehicleRecord>,
    pub journal: NotificationJournal,
}
