//! Veterans UK: service records of former members of the armed forces and the pensions paid
//! to them (Armed Forces Pension Schemes, War Pension), by NINO and service number; receives
//! deaths, stops what is paid and opens the survivors' claims.

use crate::department_error::{parse_argument, DepartmentError, ForGraphql};
use crate::hub_identity::HubDelivery;
use crate::identifiers::parse_nino;
use crate::lock_records;
use crate::notification_journal::{NotificationEffect, NotificationJournal};
use crate::population::seed_date;
use crate::shared_types::{death_request, Date, NotificationLog, NotificationReceipt};
use async_graphql::{Context, EmptySubscription, Enum, Object, Schema, SimpleObject};
use chrono::NaiveDate;
use std::sync::{Arc, Mutex};

/// The Veterans UK subgraph schema.
pub type VeteransUkSchema = Schema<Query, Mutation, EmptySubscription>;

type Store = Arc<Mutex<VeteranRecords>>;

/// A new Veterans UK subgraph over freshly seeded records.
pub fn schema() -> VeteransUkSchema {
    let store: Store = Arc::new(Mutex::new(seed_records()));
    Schema::build(Query, Mutation, EmptySubscription)
        .data(store)
        .enable_federation()
        .finish()
}

fn store<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Store> {
    ctx.data::<Store>()
}

/// The service a veteran served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ArmedService {
    RoyalNavy,
    RoyalMarines,
    BritishArmy,
    RoyalAirForce,
}

/// The scheme a pension is paid under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum VeteranPensionScheme {
    /// Armed Forces Pension Scheme 1975.
    Afps75,
    /// Armed Forces Pension Scheme 2005.
    Afps05,
    /// Armed Forces Pension Scheme 2015.
    Afps15,
    /// War Pension Scheme (injury or illness due to service before April 2005).
    WarPension,
}

impl VeteranPensionScheme {
    fn title(self) -> &'static str {
        match self {
            VeteranPensionScheme::Afps75 => "Armed Forces Pension Scheme 1975",
            VeteranPensionScheme::Afps05 => "Armed Forces Pension Scheme 2005",
            VeteranPensionScheme::Afps15 => "Armed Forces Pension Scheme 2015",
            VeteranPensionScheme::WarPension => "War Pension",
        }
    }

    /// What the scheme offers the survivors.
    fn survivors_benefit(self) -> &'static str {
        match self {
            VeteranPensionScheme::WarPension => "a War Widow(er)'s Pension may be claimed",
            _ => "a surviving spouse's or partner's pension and any children's pensions to be assessed",
        }
    }
}

/// Whether a pension is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum VeteranPensionStatus {
    InPayment,
    /// Earned but not yet payable (the veteran has not reached the scheme's pension age).
    Preserved,
    EndedDeceased,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PensionRecord {
    scheme: VeteranPensionScheme,
    status: VeteranPensionStatus,
    annual_amount_pence: i32,
    ended_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ServiceRecord {
    nino: &'static str,
    service_number: &'static str,
    service: ArmedService,
    served_from: NaiveDate,
    served_to: NaiveDate,
    pensions: Vec<PensionRecord>,
}

/// Everything Veterans UK holds, behind one lock.
#[derive(Debug)]
pub struct VeteranRecords {
    service_records: Vec<ServiceRecord>,
    journal: NotificationJournal,
}

/// A pension paid to a veteran.
#[derive(Debug, Clone, SimpleObject)]
pub struct VeteranPension {
    pub scheme: VeteranPensionScheme,
    pub status: VeteranPensionStatus,
    /// The yearly amount, in pence.
    pub annual_amount_pence: i32,
    pub ended_on: Option<Date>,
}

/// A veteran's service and pensions.
#[derive(Debug, Clone, SimpleObject)]
pub struct VeteranServiceRecord {
    pub service_number: String,
    pub service: ArmedService,
    pub served_from: Date,
    pub served_to: Date,
    pub pensions: Vec<VeteranPension>,
    pub veteran: Person,
}

impl From<&ServiceRecord> for VeteranServiceRecord {
    fn from(record: &ServiceRecord) -> Self {
        VeteranServiceRecord {
            service_number: record.service_number.to_string(),
            service: record.service,
            served_from: Date(record.served_from),
            served_to: Date(record.served_to),
            pensions: record
                .pensions
                .iter()
                .map(|p| VeteranPension {
                    scheme: p.scheme,
                    status: p.status,
                    annual_amount_pence: p.annual_amount_pence,
                    ended_on: p.ended_on.map(Date),
                })
                .collect(),
            veteran: Person {
                nino: record.nino.to_string(),
            },
        }
    }
}

/// A person, as Veterans UK sees them: their service, if they served.
#[derive(Debug, Clone)]
pub struct Person {
    nino: String,
}

#[Object]
impl Person {
    async fn nino(&self) -> &str {
        &self.nino
    }

    async fn veteran_service_record(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<VeteranServiceRecord>> {
        let records = lock_records(store(ctx)?);
        Ok(records
            .service_records
            .iter()
            .find(|r| r.nino == self.nino)
            .map(VeteranServiceRecord::from))
    }
}

/// A service number: an optional letter then six to eight digits (e.g. `24789312`,
/// `D8104452`).
fn check_service_number(input: &str) -> Result<String, DepartmentError> {
    let value = input.trim().to_ascii_uppercase();
    let digits = value.strip_prefix(|c: char| c.is_ascii_alphabetic());
    let digits = digits.unwrap_or(&value);
    if (6..=8).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value)
    } else {
        Err(DepartmentError::argument(
            "serviceNumber",
            "SERVICE_NUMBER_FORMAT",
            "must be an optional letter then six to eight digits",
        ))
    }
}

/// Veterans UK's queries.
pub struct Query;

#[Object]
impl Query {
    /// A veteran's service record by service number.
    async fn veteran_by_service_number(
        &self,
        ctx: &Context<'_>,
        service_number: String,
    ) -> async_graphql::Result<Option<VeteranServiceRecord>> {
        let number = check_service_number(&service_number).for_graphql()?;
        let records = lock_records(store(ctx)?);
        Ok(records
            .service_records
            .iter()
            .find(|r| r.service_number == number)
            .map(VeteranServiceRecord::from))
    }

    /// Notifications received: counts, and the most recent `last` receipts (oldest first).
    async fn veterans_uk_notification_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] last: i32,
    ) -> async_graphql::Result<NotificationLog> {
        let last = usize::try_from(last.max(0)).unwrap_or(0);
        Ok(lock_records(store(ctx)?).journal.log(last))
    }

    /// The receipt for an idempotency key, if that notification has been received.
    async fn veterans_uk_notification_receipt(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
    ) -> async_graphql::Result<Option<NotificationReceipt>> {
        Ok(lock_records(store(ctx)?).journal.receipt(&idempotency_key))
    }

    #[graphql(entity)]
    async fn find_person_by_nino(&self, nino: String) -> async_graphql::Result<Person> {
        let nino = parse_argument("nino", &nino, parse_nino).for_graphql()?;
        Ok(Person { nino })
    }
}

/// Veterans UK's receiving mutations.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Record a veteran's death: every pension paid or preserved ends on the date of death
    /// and the survivors' benefits are opened.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn record_veteran_death(
        &self,
        ctx: &Context<'_>,
        nino: String,
        date_of_death: Date,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let (nino, date, request) = death_request(&nino, date_of_death).for_graphql()?;
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let service_records = &mut records.service_records;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                let Some(record) = service_records.iter_mut().find(|r| r.nino == nino) else {
                    return Ok(NotificationEffect::no_matching_record(
                        "no service record for this NINO",
                    ));
                };
                let mut effects = Vec::new();
                for pension in record
                    .pensions
                    .iter_mut()
                    .filter(|p| p.status != VeteranPensionStatus::EndedDeceased)
                {
                    pension.status = VeteranPensionStatus::EndedDeceased;
                    pension.ended_on = Some(date);
                    effects.push(format!(
                        "{} ended on {date}: {}",
                        pension.scheme.title(),
                        pension.scheme.survivors_benefit()
                    ));
                }
                Ok(if effects.is_empty() {
                    NotificationEffect::already_up_to_date("no pension left to end")
                } else {
                    NotificationEffect::applied(effects)
                })
            })
            .for_graphql()
    }
}

fn pension(
    scheme: VeteranPensionScheme,
    status: VeteranPensionStatus,
    pounds: i32,
) -> PensionRecord {
    PensionRecord {
        scheme,
        status,
        annual_amount_pence: pounds * 100,
        ended_on: None,
    }
}

fn seed_records() -> VeteranRecords {
    use VeteranPensionScheme::*;
    use VeteranPensionStatus::*;
    VeteranRecords {
        service_records: vec![
            ServiceRecord {
                nino: "JK528194C",
                service_number: "W0479213",
                service: ArmedService::BritishArmy,
                served_from: seed_date(1976, 9, 6),
                served_to: seed_date(1989, 3, 31),
                pensions: vec![pension(Afps75, InPayment, 6_840)],
            },
            ServiceRecord {
                nino: "WM195627D",
                service_number: "D104452",
                service: ArmedService::RoyalNavy,
                served_from: seed_date(1966, 1, 10),
                served_to: seed_date(1988, 9, 30),
                pensions: vec![
                    pension(Afps75, InPayment, 14_205),
                    pension(WarPension, InPayment, 2_912),
                ],
            },
            ServiceRecord {
                nino: "YH472985A",
                service_number: "C8243107",
                service: ArmedService::RoyalAirForce,
                served_from: seed_date(1981, 5, 18),
                served_to: seed_date(2003, 5, 17),
                pensions: vec![pension(Afps75, InPayment, 11_370)],
            },
            ServiceRecord {
                nino: "PC834016A",
                service_number: "30291874",
                service: ArmedService::BritishArmy,
                served_from: seed_date(2019, 8, 12),
                served_to: seed_date(2024, 8, 11),
                pensions: vec![pension(Afps15, Preserved, 1_480)],
            },
        ],
        journal: NotificationJournal::new("VUK"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seeded_service_number_is_well_formed_and_unique() {
        let records = seed_records();
        let mut numbers: Vec<_> = records
            .service_records
            .iter()
            .map(|r| r.service_number)
            .collect();
        for n in &numbers {
            assert_eq!(check_service_number(n).as_deref(), Ok(*n));
        }
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), records.service_records.len());
        assert!(check_service_number("12345").is_err());
        assert!(check_service_number("AB123456").is_err());
    }
}
