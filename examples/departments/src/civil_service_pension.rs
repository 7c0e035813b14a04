//! The Civil Service Pension Scheme, a public-sector pension scheme: its members (by NINO and
//! membership number), their section and what they are paid; receives deaths, stops pensions
//! in payment and opens the death benefits.

use crate::department_error::{parse_argument, DepartmentError, ForGraphql};
use crate::hub_identity::HubDelivery;
use crate::identifiers::parse_nino;
use crate::lock_records;
use crate::notification_journal::{NotificationEffect, NotificationJournal};
use crate::shared_types::{death_request, Date, NotificationLog, NotificationReceipt};
use async_graphql::{Context, EmptySubscription, Enum, Object, Schema, SimpleObject};
use chrono::NaiveDate;
use std::sync::{Arc, Mutex};

/// The Civil Service Pension Scheme subgraph schema.
pub type CivilServicePensionSchema = Schema<Query, Mutation, EmptySubscription>;

type Store = Arc<Mutex<PensionRecords>>;

/// A new Civil Service Pension Scheme subgraph over freshly seeded records.
pub fn schema() -> CivilServicePensionSchema {
    let store: Store = Arc::new(Mutex::new(seed_records()));
    Schema::build(Query, Mutation, EmptySubscription)
        .data(store)
        .enable_federation()
        .finish()
}

fn store<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Store> {
    ctx.data::<Store>()
}

/// The section of the scheme a member's pension was built up in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PensionSchemeSection {
    Classic,
    ClassicPlus,
    Premium,
    Nuvos,
    Alpha,
}

/// Where a member stands in the scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PensionMemberStatus {
    /// Working for a civil service employer and building up a pension.
    Active,
    /// Left, with a pension payable later.
    Deferred,
    /// Drawing the pension.
    Pensioner,
    Deceased,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct MemberRecord {
    nino: &'static str,
    membership_number: &'static str,
    section: PensionSchemeSection,
    employer: &'static str,
    status: PensionMemberStatus,
    annual_pension_pence: i32,
    date_of_death: Option<NaiveDate>,
}

/// Everything the scheme holds, behind one lock.
#[derive(Debug)]
pub struct PensionRecords {
    members: Vec<MemberRecord>,
    journal: NotificationJournal,
}

/// A member of the Civil Service Pension Scheme.
#[derive(Debug, Clone, SimpleObject)]
pub struct PensionSchemeMember {
    pub membership_number: String,
    pub section: PensionSchemeSection,
    /// The last civil service employer.
    pub employer: String,
    pub status: PensionMemberStatus,
    /// The pension a year, in pence: paid now (pensioner) or built up (active, deferred).
    pub annual_pension_pence: i32,
    pub date_of_death: Option<Date>,
    pub member: Person,
}

impl From<&MemberRecord> for PensionSchemeMember {
    fn from(record: &MemberRecord) -> Self {
        PensionSchemeMember {
            membership_number: record.membership_number.to_string(),
            section: record.section,
            employer: record.employer.to_string(),
            status: record.status,
            annual_pension_pence: record.annual_pension_pence,
            date_of_death: record.date_of_death.map(Date),
            member: Person {
                nino: record.nino.to_string(),
            },
        }
    }
}

/// A person, as the scheme sees them: their membership, if any.
#[derive(Debug, Clone)]
pub struct Person {
    nino: String,
}

#[Object]
impl Person {
    async fn nino(&self) -> &str {
        &self.nino
    }

    async fn civil_service_pension(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<PensionSchemeMember>> {
        let records = lock_records(store(ctx)?);
        Ok(records
            .members
            .iter()
            .find(|m| m.nino == self.nino)
            .map(PensionSchemeMember::from))
    }
}

/// A membership number: `CS` then eight digits.
fn check_membership_number(input: &str) -> Result<String, DepartmentError> {
    let value = input.trim().to_ascii_uppercase();
    match value.strip_prefix("CS") {
        Some(digits) if digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(value)
        }
        _ => Err(DepartmentError::argument(
            "membershipNumber",
            "MEMBERSHIP_NUMBER_FORMAT",
            "must be CS then eight digits",
        )),
    }
}

/// The scheme's queries.
pub struct Query;

#[Object]
impl Query {
    /// A member by membership number.
    async fn civil_service_pension_member(
        &self,
        ctx: &Context<'_>,
        membership_number: String,
    ) -> async_graphql::Result<Option<PensionSchemeMember>> {
        let number = check_membership_number(&membership_number).for_graphql()?;
        let records = lock_records(store(ctx)?);
        Ok(records
            .members
            .iter()
            .find(|m| m.membership_number == number)
            .map(PensionSchemeMember::from))
    }

    /// Notifications received: counts, and the most recent `last` receipts (oldest first).
    async fn civil_service_pension_notification_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] last: i32,
    ) -> async_graphql::Result<NotificationLog> {
        let last = usize::try_from(last.max(0)).unwrap_or(0);
        Ok(lock_records(store(ctx)?).journal.log(last))
    }

    /// The receipt for an idempotency key, if that notification has been received.
    async fn civil_service_pension_notification_receipt(
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

/// The scheme's receiving mutations.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Record a member's death: a pension in payment stops on the date of death, and the
    /// death benefits due from the member's status are opened.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn record_scheme_member_death(
        &self,
        ctx: &Context<'_>,
        nino: String,
        date_of_death: Date,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let (nino, date, request) = death_request(&nino, date_of_death).for_graphql()?;
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let members = &mut records.members;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                let Some(member) = members.iter_mut().find(|m| m.nino == nino) else {
                    return Ok(NotificationEffect::no_matching_record(
                        "not a member of the scheme",
                    ));
                };
                let benefits = match member.status {
                    PensionMemberStatus::Deceased => {
                        return Ok(NotificationEffect::already_up_to_date(
                            "the member's death is already recorded",
                        ))
                    }
                    PensionMemberStatus::Pensioner => format!(
                        "pension stopped from {date}; payments after it are recovered from the estate; survivor's pension to be assessed"
                    ),
                    PensionMemberStatus::Active => format!(
                        "death in service: lump sum and survivor's pension to be assessed; {} informed",
                        member.employer
                    ),
                    PensionMemberStatus::Deferred => {
                        "deferred member: lump sum and survivor's pension to be assessed"
                            .to_string()
                    }
                };
                member.status = PensionMemberStatus::Deceased;
                member.date_of_death = Some(date);
                Ok(NotificationEffect::applied(vec![
                    format!(
                        "membership {} closed: member died on {date}",
                        member.membership_number
                    ),
                    benefits,
                ]))
            })
            .for_graphql()
    }
}

fn seed_records() -> PensionRecords {
    use PensionMemberStatus::*;
    use PensionSchemeSection::*;
    let member = |nino, membership_number, section, employer, status, pounds: i32| MemberRecord {
        nino,
        membership_number,
        section,
        employer,
        status,
        annual_pension_pence: pounds * 100,
        date_of_death: None,
    };
    PensionRecords {
        members: vec![
            member(
                "JK528194C",
                "CS10473829",
                Classic,
                "Department for Work and Pensions",
                Pensioner,
                9_412,
            ),
            member(
                "SP347102A",
                "CS20938471",
                Alpha,
                "HM Revenue & Customs",
                Active,
                3_105,
            ),
            member(
                "TW580173B",
                "CS31840265",
                Nuvos,
                "HM Land Registry",
                Deferred,
                2_260,
            ),
            member(
                "JG103827C",
                "CS18265530",
                Premium,
                "Scottish Government",
                Active,
                12_870,
            ),
        ],
        journal: NotificationJournal::new("CSPS"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seeded_membership_number_is_well_formed_and_unique() {
        let records = seed_records();
        let mut numbers: Vec<_> = records
            .members
            .iter()
            .map(|m| m.membership_number)
            .collect();
        for n in &numbers {
            assert_eq!(check_membership_number(n).as_deref(), Ok(*n));
        }
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), records.members.len());
        assert!(check_membership_number("CS1234567").is_err());
    }
}
