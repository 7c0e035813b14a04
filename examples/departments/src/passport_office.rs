//! HM Passport Office: British passports (by passport number and NINO); receives deaths
//! and cancels the passports of the deceased.

use crate::department_error::{parse_argument, ForGraphql};
use crate::hub_identity::HubDelivery;
use crate::identifiers::{parse_nino, parse_passport_number};
use crate::lock_records;
use crate::notification_journal::{NotificationEffect, NotificationJournal};
use crate::population::{citizens, seed_date};
use crate::shared_types::{death_request, Date, NotificationLog, NotificationReceipt};
use async_graphql::{Context, EmptySubscription, Enum, Object, Schema, SimpleObject};
use chrono::{Months, NaiveDate, Utc};
use std::sync::{Arc, Mutex};

/// The HM Passport Office subgraph schema.
pub type PassportOfficeSchema = Schema<Query, Mutation, EmptySubscription>;

type Store = Arc<Mutex<PassportRecords>>;

/// A new HM Passport Office subgraph over freshly seeded records.
pub fn schema() -> PassportOfficeSchema {
    let store: Store = Arc::new(Mutex::new(seed_records()));
    Schema::build(Query, Mutation, EmptySubscription)
        .data(store)
        .enable_federation()
        .finish()
}

fn store<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Store> {
    ctx.data::<Store>()
}

/// Whether a passport can be used to travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PassportStatus {
    Valid,
    Expired,
    ReportedLostOrStolen,
    CancelledHolderDeceased,
}

/// One passport book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassportRecord {
    pub passport_number: String,
    pub nino: String,
    pub surname: String,
    pub given_names: String,
    pub date_of_birth: NaiveDate,
    pub place_of_birth: String,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
    /// Set when the book was reported lost or stolen or cancelled.
    pub cancelled: Option<PassportStatus>,
}

impl PassportRecord {
    fn status(&self, today: NaiveDate) -> PassportStatus {
        match self.cancelled {
            Some(status) => status,
            None if self.expires_on < today => PassportStatus::Expired,
            None => PassportStatus::Valid,
        }
    }
}

/// Everything HM Passport Office holds, behind one lock.
#[derive(Debug)]
pub struct PassportRecords {
    pub passports: Vec<PassportRecord>,
    pub journal: NotificationJournal,
}

/// A British passport.
#[derive(Debug, Clone, SimpleObject)]
pub struct Passport {
    pub passport_number: String,
    pub surname: String,
    pub given_names: String,
    pub date_of_birth: Date,
    pub place_of_birth: String,
    pub issued_on: Date,
    pub expires_on: Date,
    pub status: PassportStatus,
    pub holder: Person,
}

impl Passport {
    fn from_record(record: &PassportRecord) -> Passport {
        Passport {
            passport_number: record.passport_number.clone(),
            surname: record.surname.to_uppercase(),
            given_names: record.given_names.to_uppercase(),
            date_of_birth: Date(record.date_of_birth),
            place_of_birth: record.place_of_birth.to_uppercase(),
            issued_on: Date(record.issued_on),
            expires_on: Date(record.expires_on),
            status: record.status(Utc::now().date_naive()),
            holder: Person {
                nino: record.nino.clone(),
            },
        }
    }
}

/// A person, as HM Passport Office sees them: their passports.
#[derive(Debug, Clone)]
pub struct Person {
    nino: String,
}

#[Object]
impl Person {
    async fn nino(&self) -> &str {
        &self.nino
    }

    /// Every passport issued to the person, most recent first.
    async fn passports(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Passport>> {
        let records = lock_records(store(ctx)?);
        let mut passports: Vec<Passport> = records
            .passports
            .iter()
            .filter(|p| p.nino == self.nino)
            .map(Passport::from_record)
            .collect();
        passports.sort_by_key(|x| std::cmp::Reverse(x.issued_on));
        Ok(passports)
    }
}

/// HM Passport Office's queries.
pub struct Query;

#[Object]
impl Query {
    /// A passport by its nine-digit number.
    async fn passport(
        &self,
        ctx: &Context<'_>,
        number: String,
    ) -> async_graphql::Result<Option<Passport>> {
        let number = parse_argument("number", &number, parse_passport_number).for_graphql()?;
        let records = lock_records(store(ctx)?);
        Ok(records
            .passports
            .iter()
            .find(|p| p.passport_number == number)
            .map(Passport::from_record))
    }

    /// Notifications received: counts, and the most recent `last` receipts (oldest first).
    async fn passport_office_notification_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] last: i32,
    ) -> async_graphql::Result<NotificationLog> {
        let last = usize::try_from(last.max(0)).unwrap_or(0);
        Ok(lock_records(store(ctx)?).journal.log(last))
    }

    /// The receipt for an idempotency key, if that notification has been received.
    async fn passport_office_notification_receipt(
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

/// HM Passport Office's receiving mutations.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Record a passport holder's death: every passport that is still valid is cancelled.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn record_passport_holder_death(
        &self,
        ctx: &Context<'_>,
        nino: String,
        date_of_death: Date,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let (nino, date, request) = death_request(&nino, date_of_death).for_graphql()?;
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let passports = &mut records.passports;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                let today = Utc::now().date_naive();
                let held: Vec<&mut PassportRecord> =
                    passports.iter_mut().filter(|p| p.nino == nino).collect();
                if held.is_empty() {
                    return Ok(NotificationEffect::no_matching_record(
                        "no passport issued to this NINO",
                    ));
                }
                let mut effects = Vec::new();
                for passport in held {
                    if passport.status(today) == PassportStatus::Valid {
                        passport.cancelled = Some(PassportStatus::CancelledHolderDeceased);
                        effects.push(format!(
                            "passport {} cancelled: holder died on {date}",
                            passport.passport_number
                        ));
                    }
                }
                Ok(if effects.is_empty() {
                    NotificationEffect::already_up_to_date("no valid passport to cancel")
                } else {
                    NotificationEffect::applied(effects)
                })
            })
            .for_graphql()
    }
}

/// Passport number, place of birth and issue date of each book, by NINO.
fn passport_books(nino: &str) -> Vec<(&'static str, &'static str, NaiveDate)> {
    match nino {
        "JK528194C" => vec![("533401872", "Harrogate", seed_date(2019, 4, 23))],
        "SP347102A" => vec![
            ("761239045", "Leeds", seed_date(2013, 8, 5)),
            ("120774563", "Leeds", seed_date(2023, 6, 12)),
        ],
        "NE712348B" => vec![("548812306", "Birmingham", seed_date(2022, 1, 31))],
        "WM195627D" => vec![("302918475", "Cardiff", seed_date(2012, 5, 14))],
        "PC834016A" => vec![("124509871", "Oldham", seed_date(2024, 7, 8))],
        "JG103827C" => vec![("509126734", "Edinburgh", seed_date(2018, 3, 2))],
        "TW580173B" => vec![("118392064", "Norwich", seed_date(2025, 2, 17))],
        // Holds an Irish passport only.
        _ => Vec::new(),
    }
}

fn seed_records() -> PassportRecords {
    let mut passports = Vec::new();
    for c in citizens() {
        for (number, place_of_birth, issued_on) in passport_books(c.nino) {
            passports.push(PassportRecord {
                passport_number: number.to_string(),
                nino: c.nino.to_string(),
                surname: c.family_name.to_string(),
                given_names: c.given_names.to_string(),
                date_of_birth: c.date_of_birth,
                place_of_birth: place_of_birth.to_string(),
                issued_on,
                expires_on: issued_on
                    .checked_add_months(Months::new(120))
                    .unwrap_or(issued_on),
                cancelled: None,
            });
        }
    }
    PassportRecords {
        passports,
        journal: NotificationJournal::new("HMPO"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_passport_number_is_nine_digits_and_unique() {
        let records = seed_records();
        let mut numbers: Vec<_> = records
            .passports
            .iter()
            .map(|p| p.passport_number.clone())
            .collect();
        for n in &numbers {
            assert_eq!(parse_passport_number(n).as_deref(), Ok(n.as_str()));
        }
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), records.passports.len());
        for p in &records.passports {
            assert!(p.issued_on > p.date_of_birth);
        }
    }
}
