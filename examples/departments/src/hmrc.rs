//! HM Revenue & Customs: taxpayers (by NINO and UTR), self assessment, VAT and corporation tax
//! registrations, EORI-registered traders; receives deaths, changes of address and new
//! companies registering for corporation tax.

mod records;
mod seed;

use crate::department_error::{parse_argument, DepartmentError, ForGraphql};
use crate::hub_identity::HubDelivery;
use crate::identifiers::{
    parse_company_number, parse_eori, parse_nino, parse_utr, parse_vat_number, utr_check_digit,
};
use crate::lock_records;
use crate::notification_journal::{NotificationEffect, NotificationRequest};
use crate::shared_types::{
    death_request, not_in_future, partnership_request, Address, AddressInput, Date,
    NotificationKind, NotificationLog, NotificationReceipt,
};
use async_graphql::{Context, EmptySubscription, Enum, Object, Schema, SimpleObject};
use chrono::{Datelike, NaiveDate, Utc};
use records::{CompanyTaxRecord, HmrcRecords, TaxpayerRecord};
use std::sync::{Arc, Mutex};

pub use records::{
    AddressPeriod, CorporationTaxRegistration, ReturnStatus, SelfAssessmentReturn, VatRegistration,
};

/// The HMRC subgraph schema.
pub type HmrcSchema = Schema<Query, Mutation, EmptySubscription>;

type Store = Arc<Mutex<HmrcRecords>>;

/// A new HMRC subgraph over freshly seeded records.
pub fn schema() -> HmrcSchema {
    let store: Store = Arc::new(Mutex::new(seed::records()));
    Schema::build(Query, Mutation, EmptySubscription)
        .data(store)
        .enable_federation()
        .finish()
}

fn store<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Store> {
    ctx.data::<Store>()
}

/// Whether HMRC treats the taxpayer as alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TaxpayerStatus {
    Live,
    Deceased,
}

/// How a taxpayer hears from HMRC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum CorrespondencePreference {
    /// Letters by post.
    Paper,
    /// Messages in the taxpayer's online account, with an email to say one is there.
    Online,
}

/// A person known to HMRC by National Insurance number.
#[derive(Debug, Clone, SimpleObject)]
pub struct Person {
    pub nino: String,
    /// Full name as HMRC holds it.
    #[graphql(shareable)]
    pub name: String,
    pub given_names: String,
    pub family_name: String,
    pub date_of_birth: Date,
    /// Self-assessment Unique Taxpayer Reference, if the person files tax returns.
    pub utr: Option<String>,
    pub status: TaxpayerStatus,
    pub date_of_death: Option<Date>,
    /// The current correspondence address.
    pub address: Address,
    /// Every address HMRC has held, most recent first.
    pub address_history: Vec<AddressPeriod>,
    pub self_assessment_returns: Vec<SelfAssessmentReturn>,
    /// How HMRC writes to them.
    pub correspondence_preference: CorrespondencePreference,
}

impl Person {
    fn from_record(record: &TaxpayerRecord) -> Person {
        let mut history = vec![record.current_address.clone()];
        history.extend(record.previous_addresses.iter().rev().cloned());
        Person {
            nino: record.nino.clone(),
            name: format!("{} {}", record.given_names, record.family_name),
            given_names: record.given_names.clone(),
            family_name: record.family_name.clone(),
            date_of_birth: Date(record.date_of_birth),
            utr: record.utr.clone(),
            status: if record.date_of_death.is_some() {
                TaxpayerStatus::Deceased
            } else {
                TaxpayerStatus::Live
            },
            date_of_death: record.date_of_death.map(Date),
            address: record.current_address.address.clone(),
            address_history: history,
            self_assessment_returns: record.returns.clone(),
            correspondence_preference: record.correspondence,
        }
    }
}

// HMRC's view of a company: its VAT and corporation tax registrations. (No GraphQL
// description: Companies House describes `Company` in the supergraph.)
#[derive(Debug, Clone, SimpleObject)]
pub struct Company {
    pub company_number: String,
    pub vat_registration: Option<VatRegistration>,
    pub corporation_tax: Option<CorporationTaxRegistration>,
}

impl Company {
    fn from_record(company_number: &str, record: Option<&CompanyTaxRecord>) -> Company {
        Company {
            company_number: company_number.to_string(),
            vat_registration: record.and_then(|r| r.vat.clone()),
            corporation_tax: record.and_then(|r| r.corporation_tax.clone()),
        }
    }
}

/// An importer or exporter registered for an EORI number.
#[derive(Debug, Clone, SimpleObject)]
pub struct Trader {
    pub eori: String,
    pub name: String,
    pub address: Address,
    pub vat_number: Option<String>,
    /// The company behind the trader, when it is incorporated.
    pub company: Option<Company>,
}

fn trader_for(records: &HmrcRecords, eori: &str) -> Option<Trader> {
    let record = records.traders.get(eori)?;
    Some(Trader {
        eori: record.eori.clone(),
        name: record.name.clone(),
        address: record.address.clone(),
        vat_number: record.vat_number.clone(),
        company: record
            .company_number
            .as_deref()
            .map(|number| Company::from_record(number, records.companies.get(number))),
    })
}

/// HMRC's queries.
pub struct Query;

#[Object]
impl Query {
    /// A taxpayer by National Insurance number.
    #[graphql(requires_scopes = "hmrc:taxpayer:read")]
    async fn taxpayer(
        &self,
        ctx: &Context<'_>,
        nino: String,
    ) -> async_graphql::Result<Option<Person>> {
        let nino = parse_argument("nino", &nino, parse_nino).for_graphql()?;
        let records = lock_records(store(ctx)?);
        Ok(records.taxpayers.get(&nino).map(Person::from_record))
    }

    /// A self-assessment taxpayer by Unique Taxpayer Reference.
    async fn taxpayer_by_utr(
        &self,
        ctx: &Context<'_>,
        utr: String,
    ) -> async_graphql::Result<Option<Person>> {
        let utr = parse_argument("utr", &utr, parse_utr).for_graphql()?;
        let records = lock_records(store(ctx)?);
        Ok(records
            .taxpayers
            .values()
            .find(|t| t.utr.as_deref() == Some(utr.as_str()))
            .map(Person::from_record))
    }

    /// The company registered for VAT under this number.
    async fn company_by_vat_number(
        &self,
        ctx: &Context<'_>,
        vat_number: String,
    ) -> async_graphql::Result<Option<Company>> {
        let vat_number =
            parse_argument("vatNumber", &vat_number, parse_vat_number).for_graphql()?;
        let records = lock_records(store(ctx)?);
        Ok(records
            .companies
            .iter()
            .find(|(_, c)| c.vat.as_ref().is_some_and(|v| v.vat_number == vat_number))
            .map(|(number, record)| Company::from_record(number, Some(record))))
    }

    /// A trader by EORI number.
    async fn trader(
        &self,
        ctx: &Context<'_>,
        eori: String,
    ) -> async_graphql::Result<Option<Trader>> {
        let eori = parse_argument("eori", &eori, parse_eori).for_graphql()?;
        let records = lock_records(store(ctx)?);
        Ok(trader_for(&records, &eori))
    }

    /// Notifications received: counts, and the most recent `last` receipts (oldest first).
    async fn hmrc_notification_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] last: i32,
    ) -> async_graphql::Result<NotificationLog> {
        let last = usize::try_from(last.max(0)).unwrap_or(0);
        Ok(lock_records(store(ctx)?).journal.log(last))
    }

    /// The receipt for an idempotency key, if that notification has been received.
    async fn hmrc_notification_receipt(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
    ) -> async_graphql::Result<Option<NotificationReceipt>> {
        Ok(lock_records(store(ctx)?).journal.receipt(&idempotency_key))
    }

    #[graphql(entity)]
    async fn find_person_by_nino(
        &self,
        ctx: &Context<'_>,
        nino: String,
    ) -> async_graphql::Result<Option<Person>> {
        self.taxpayer(ctx, nino).await
    }

    #[graphql(entity)]
    async fn find_company_by_company_number(
        &self,
        ctx: &Context<'_>,
        company_number: String,
    ) -> async_graphql::Result<Company> {
        let number =
            parse_argument("companyNumber", &company_number, parse_company_number).for_graphql()?;
        let records = lock_records(store(ctx)?);
        Ok(Company::from_record(
            &number,
            records.companies.get(&number),
        ))
    }

    #[graphql(entity)]
    async fn find_trader_by_eori(
        &self,
        ctx: &Context<'_>,
        eori: String,
    ) -> async_graphql::Result<Option<Trader>> {
        self.trader(ctx, eori).await
    }
}

/// HMRC's receiving mutations.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Choose how HMRC writes to a taxpayer: letters by post or messages online.
    #[graphql(requires_scopes = "hmrc:taxpayer:write")]
    async fn set_correspondence_preference(
        &self,
        ctx: &Context<'_>,
        nino: String,
        preference: CorrespondencePreference,
    ) -> async_graphql::Result<Person> {
        let nino = parse_argument("nino", &nino, parse_nino).for_graphql()?;
        let mut records = lock_records(store(ctx)?);
        let Some(record) = records.taxpayers.get_mut(&nino) else {
            return Err(DepartmentError::NotFound(format!(
                "no taxpayer has NINO {nino}"
            )))
            .for_graphql();
        };
        if record.date_of_death.is_some() {
            return Err(DepartmentError::Conflict(format!(
                "taxpayer {nino} has died; their personal representatives choose how HMRC writes"
            )))
            .for_graphql();
        }
        record.correspondence = preference;
        Ok(Person::from_record(record))
    }

    /// Record a taxpayer's death: the record is marked deceased and self assessment passes to
    /// the personal representatives.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn record_taxpayer_death(
        &self,
        ctx: &Context<'_>,
        nino: String,
        date_of_death: Date,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let (nino, date, request) = death_request(&nino, date_of_death).for_graphql()?;
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let taxpayers = &mut records.taxpayers;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                let Some(taxpayer) = taxpayers.get_mut(&nino) else {
                    return Ok(NotificationEffect::no_matching_record(
                        "no taxpayer record for this NINO",
                    ));
                };
                record_death(taxpayer, date)
            })
            .for_graphql()
    }

    /// Record a taxpayer's new address from the date they moved (today if not given).
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn update_taxpayer_address(
        &self,
        ctx: &Context<'_>,
        nino: String,
        address: AddressInput,
        moved_on: Option<Date>,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let nino = parse_argument("nino", &nino, parse_nino).for_graphql()?;
        let address = address.validate("address").for_graphql()?;
        let moved_on = match moved_on {
            Some(date) => Some(not_in_future("movedOn", date).for_graphql()?),
            None => None,
        };
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let request = NotificationRequest {
            kind: NotificationKind::ChangeOfAddress,
            subject: nino.clone(),
            details: format!("address={}|movedOn={moved_on:?}", address.one_line()),
        };
        let taxpayers = &mut records.taxpayers;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                let Some(taxpayer) = taxpayers.get_mut(&nino) else {
                    return Ok(NotificationEffect::no_matching_record(
                        "no taxpayer record for this NINO",
                    ));
                };
                let moved_on = moved_on.unwrap_or_else(|| Utc::now().date_naive());
                Ok(taxpayer.move_to(address, moved_on))
            })
            .for_graphql()
    }

    /// Register a newly incorporated company for corporation tax and allocate its UTR.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn register_for_corporation_tax(
        &self,
        ctx: &Context<'_>,
        company_number: String,
        company_name: String,
        incorporated_on: Date,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let number =
            parse_argument("companyNumber", &company_number, parse_company_number).for_graphql()?;
        let name = company_name.trim().to_uppercase();
        if name.is_empty() || name.chars().count() > 160 {
            return Err(DepartmentError::argument(
                "companyName",
                "COMPANY_NAME_LENGTH",
                "must be 1 to 160 characters",
            ))
            .for_graphql();
        }
        let incorporated_on = not_in_future("incorporatedOn", incorporated_on).for_graphql()?;
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let request = NotificationRequest {
            kind: NotificationKind::BusinessRegistered,
            subject: number.clone(),
            details: format!("companyName={name}|incorporatedOn={incorporated_on}"),
        };
        let companies = &mut records.companies;
        let next_serial = &mut records.next_utr_serial;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                let company = companies
                    .entry(number.clone())
                    .or_insert_with(|| CompanyTaxRecord {
                        vat: None,
                        corporation_tax: None,
                        ceased_on: None,
                    });
                if let Some(ct) = &company.corporation_tax {
                    return Ok(NotificationEffect::already_up_to_date(format!(
                        "already registered for Corporation Tax with UTR {}",
                        ct.utr
                    )));
                }
                let utr = allocate_utr(next_serial);
                company.corporation_tax = Some(CorporationTaxRegistration {
                    utr: utr.clone(),
                    registered_on: Date(Utc::now().date_naive()),
                    first_accounting_period_starts_on: Date(incorporated_on),
                });
                Ok(NotificationEffect::applied(vec![
                    format!("registered {name} for Corporation Tax with UTR {utr}"),
                    format!("first accounting period starts {incorporated_on}"),
                ]))
            })
            .for_graphql()
    }

    /// Start Child Benefit for a newborn on the registering parent's record.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn record_birth_for_child_benefit(
        &self,
        ctx: &Context<'_>,
        parent_nino: String,
        child_given_names: String,
        child_family_name: String,
        date_of_birth: Date,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let nino = parse_argument("parentNino", &parent_nino, parse_nino).for_graphql()?;
        let born = not_in_future("dateOfBirth", date_of_birth).for_graphql()?;
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let request = NotificationRequest {
            kind: NotificationKind::Birth,
            subject: nino.clone(),
            details: format!("child={child_given_names} {child_family_name}|born={born}"),
        };
        let taxpayers = &mut records.taxpayers;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                let Some(parent) = taxpayers.get_mut(&nino) else {
                    return Ok(NotificationEffect::no_matching_record(
                        "no taxpayer record for the registering parent",
                    ));
                };
                let child = (child_given_names.clone(), child_family_name.clone(), born);
                if parent.child_benefit.contains(&child) {
                    return Ok(NotificationEffect::already_up_to_date(
                        "Child Benefit is already claimed for this child",
                    ));
                }
                parent.child_benefit.push(child);
                Ok(NotificationEffect::applied(vec![format!(
                    "Child Benefit started for {child_given_names} {child_family_name}, born {born}"
                )]))
            })
            .for_graphql()
    }

    /// Record a marriage or civil partnership on both partners' records, so
    /// that either may transfer a Personal Allowance (Marriage Allowance).
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn record_partnership(
        &self,
        ctx: &Context<'_>,
        first_partner_nino: String,
        second_partner_nino: String,
        date: Date,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let (first, second, since, request) =
            partnership_request(&first_partner_nino, &second_partner_nino, date).for_graphql()?;
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let taxpayers = &mut records.taxpayers;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                let mut effects = Vec::new();
                for (nino, partner) in [(&first, &second), (&second, &first)] {
                    if let Some(taxpayer) = taxpayers.get_mut(nino) {
                        taxpayer.partner = Some((partner.clone(), since));
                        effects.push(format!(
                            "{nino} may transfer allowance to or from {partner} from {since}"
                        ));
                    }
                }
                if effects.is_empty() {
                    return Ok(NotificationEffect::no_matching_record(
                        "no taxpayer record for either partner",
                    ));
                }
                Ok(NotificationEffect::applied(effects))
            })
            .for_graphql()
    }

    /// Close a company's corporation tax affairs from the day it ceased trading.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn record_business_ceased(
        &self,
        ctx: &Context<'_>,
        company_number: String,
        ceased_on: Date,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let number =
            parse_argument("companyNumber", &company_number, parse_company_number).for_graphql()?;
        let ceased = not_in_future("ceasedOn", ceased_on).for_graphql()?;
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let request = NotificationRequest {
            kind: NotificationKind::BusinessCeased,
            subject: number.clone(),
            details: format!("ceasedOn={ceased}"),
        };
        let companies = &mut records.companies;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                let Some(company) = companies.get_mut(&number) else {
                    return Ok(NotificationEffect::no_matching_record(
                        "no tax record for this company",
                    ));
                };
                if let Some(existing) = company.ceased_on {
                    return Ok(NotificationEffect::already_up_to_date(format!(
                        "already recorded as ceased on {existing}"
                    )));
                }
                company.ceased_on = Some(ceased);
                Ok(NotificationEffect::applied(vec![format!(
                    "final accounting period ends {ceased}; a final Company Tax Return is due"
                )]))
            })
            .for_graphql()
    }
}

fn record_death(
    taxpayer: &mut TaxpayerRecord,
    date: NaiveDate,
) -> Result<NotificationEffect, DepartmentError> {
    if date < taxpayer.date_of_birth {
        return Err(DepartmentError::argument(
            "dateOfDeath",
            "DATE_BEFORE_BIRTH",
            "must not be before the date of birth",
        ));
    }
    if let Some(existing) = taxpayer.date_of_death {
        return Ok(NotificationEffect::already_up_to_date(format!(
            "taxpayer already recorded as deceased on {existing}"
        )));
    }
    taxpayer.date_of_death = Some(date);
    let mut effects = vec![format!("taxpayer record marked deceased from {date}")];
    if taxpayer.utr.is_some() {
        effects.push(format!(
            "self assessment: a final return for tax year {} is due from the personal representatives",
            tax_year_of(date)
        ));
        let outstanding = taxpayer
            .returns
            .iter_mut()
            .filter(|r| r.status == ReturnStatus::Outstanding);
        for tax_return in outstanding {
            tax_return.status = ReturnStatus::Withdrawn;
            effects.push(format!(
                "outstanding return for {} withdrawn",
                tax_return.tax_year
            ));
        }
    }
    Ok(NotificationEffect::applied(effects))
}

/// The UK tax year (6 April to 5 April) containing `date`, e.g. `2026-27`.
pub fn tax_year_of(date: NaiveDate) -> String {
    let year = date.year();
    let starts = if (date.month(), date.day()) >= (4, 6) {
        year
    } else {
        year - 1
    };
    format!("{starts}-{:02}", (starts + 1).rem_euclid(100))
}

/// The next corporation tax UTR: nine serial digits behind their modulus 11 check digit.
fn allocate_utr(next_serial: &mut u32) -> String {
    let tail = format!("{:09}", 612_400_000 + *next_serial);
    *next_serial += 1;
    let mut digits = [0u32; 9];
    for (slot, c) in digits.iter_mut().zip(tail.chars()) {
        *slot = c.to_digit(10).unwrap_or(0);
    }
    format!("{}{tail}", utr_check_digit(&digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_years_start_on_the_sixth_of_april() {
        assert_eq!(
            tax_year_of(NaiveDate::from_ymd_opt(2026, 4, 5).unwrap()),
            "2025-26"
        );
        assert_eq!(
            tax_year_of(NaiveDate::from_ymd_opt(2026, 4, 6).unwrap()),
            "2026-27"
        );
        assert_eq!(
            tax_year_of(NaiveDate::from_ymd_opt(1999, 12, 31).unwrap()),
            "1999-00"
        );
    }

    #[test]
    fn allocated_utrs_pass_the_check_digit_rule() {
        let mut serial = 0;
        for _ in 0..50 {
            let utr = allocate_utr(&mut serial);
            assert_eq!(parse_utr(&utr).as_deref(), Ok(utr.as_str()));
        }
    }
}
