//! Companies House: the register of companies (by number), their officers and filing
//! history; receives new companies when a business is registered.

mod records;
mod seed;

use crate::department_error::{parse_argument, DepartmentError, ForGraphql};
use crate::hub_identity::HubDelivery;
use crate::identifiers::parse_company_number;
use crate::lock_records;
use crate::notification_journal::{NotificationEffect, NotificationRequest};
use crate::shared_types::{
    not_in_future, Address, AddressInput, Date, NotificationKind, NotificationLog,
    NotificationReceipt,
};
use async_graphql::{Context, EmptySubscription, InputObject, Object, Schema, SimpleObject};
use records::{CompaniesHouseRecords, CompanyRecord};
use std::sync::{Arc, Mutex};

pub use records::{
    CompanyStatus, CompanyType, Filing, FilingCategory, Jurisdiction, Officer, OfficerRole,
};

/// The Companies House subgraph schema.
pub type CompaniesHouseSchema = Schema<Query, Mutation, EmptySubscription>;

type Store = Arc<Mutex<CompaniesHouseRecords>>;

/// A new Companies House subgraph over freshly seeded records.
pub fn schema() -> CompaniesHouseSchema {
    let store: Store = Arc::new(Mutex::new(seed::records()));
    Schema::build(Query, Mutation, EmptySubscription)
        .data(store)
        .enable_federation()
        .finish()
}

fn store<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Store> {
    ctx.data::<Store>()
}

/// A company on the register.
#[derive(Debug, Clone, SimpleObject)]
pub struct Company {
    pub company_number: String,
    pub company_name: String,
    pub company_status: CompanyStatus,
    pub company_type: CompanyType,
    pub jurisdiction: Jurisdiction,
    pub incorporated_on: Date,
    pub dissolved_on: Option<Date>,
    pub registered_office: Address,
    /// Standard Industrial Classification (SIC 2007) codes.
    pub sic_codes: Vec<String>,
    /// Current and former officers, most recently appointed first.
    pub officers: Vec<Officer>,
    /// Filings, most recent first.
    pub filing_history: Vec<Filing>,
}

impl Company {
    fn from_record(record: &CompanyRecord) -> Company {
        let mut officers = record.officers.clone();
        officers.sort_by_key(|x| std::cmp::Reverse(x.appointed_on));
        let mut filings = record.filings.clone();
        filings.sort_by_key(|x| std::cmp::Reverse(x.date));
        Company {
            company_number: record.company_number.clone(),
            company_name: record.company_name.clone(),
            company_status: record.company_status,
            company_type: record.company_type,
            jurisdiction: Jurisdiction::of(&record.company_number),
            incorporated_on: Date(record.incorporated_on),
            dissolved_on: record.dissolved_on.map(Date),
            registered_office: record.registered_office.clone(),
            sic_codes: record.sic_codes.clone(),
            officers,
            filing_history: filings,
        }
    }
}

/// A company to add to the register.
#[derive(Debug, Clone, InputObject)]
pub struct CompanyRegistrationInput {
    pub company_number: String,
    pub company_name: String,
    pub company_type: CompanyType,
    pub incorporated_on: Date,
    pub registered_office: AddressInput,
    /// SIC 2007 codes, five digits each.
    #[graphql(default)]
    pub sic_codes: Vec<String>,
}

/// Companies House's queries.
pub struct Query;

#[Object]
impl Query {
    /// A company by registration number.
    async fn company(
        &self,
        ctx: &Context<'_>,
        company_number: String,
    ) -> async_graphql::Result<Option<Company>> {
        let number =
            parse_argument("companyNumber", &company_number, parse_company_number).for_graphql()?;
        let records = lock_records(store(ctx)?);
        Ok(records.companies.get(&number).map(Company::from_record))
    }

    /// Companies whose name contains `name` (case-insensitive), in name order.
    async fn search_companies(
        &self,
        ctx: &Context<'_>,
        name: String,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<Company>> {
        let needle = name.trim().to_uppercase();
        if needle.is_empty() {
            return Err(DepartmentError::argument(
                "name",
                "SEARCH_TERM_EMPTY",
                "must not be empty",
            ))
            .for_graphql();
        }
        let limit = usize::try_from(first.clamp(0, 100)).unwrap_or(0);
        let records = lock_records(store(ctx)?);
        let mut found: Vec<Company> = records
            .companies
            .values()
            .filter(|c| c.company_name.contains(&needle))
            .map(Company::from_record)
            .collect();
        found.sort_by(|a, b| a.company_name.cmp(&b.company_name));
        found.truncate(limit);
        Ok(found)
    }

    /// Notifications received: counts, and the most recent `last` receipts (oldest first).
    async fn companies_house_notification_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] last: i32,
    ) -> async_graphql::Result<NotificationLog> {
        let last = usize::try_from(last.max(0)).unwrap_or(0);
        Ok(lock_records(store(ctx)?).journal.log(last))
    }

    /// The receipt for an idempotency key, if that notification has been received.
    async fn companies_house_notification_receipt(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
    ) -> async_graphql::Result<Option<NotificationReceipt>> {
        Ok(lock_records(store(ctx)?).journal.receipt(&idempotency_key))
    }

    #[graphql(entity)]
    async fn find_company_by_company_number(
        &self,
        ctx: &Context<'_>,
        company_number: String,
    ) -> async_graphql::Result<Option<Company>> {
        self.company(ctx, company_number).await
    }
}

/// Companies House's receiving mutations.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Add a newly incorporated company to the register.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn register_company(
        &self,
        ctx: &Context<'_>,
        company: CompanyRegistrationInput,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let record = validate_registration(&company).for_graphql()?;
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let request = NotificationRequest {
            kind: NotificationKind::BusinessRegistered,
            subject: record.company_number.clone(),
            details: format!("{record:?}"),
        };
        let companies = &mut records.companies;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                if let Some(existing) = companies.get(&record.company_number) {
                    if existing.company_name == record.company_name {
                        return Ok(NotificationEffect::already_up_to_date(
                            "the company is already on the register",
                        ));
                    }
                    return Err(DepartmentError::Conflict(format!(
                        "company number {} is already registered to another company",
                        record.company_number
                    )));
                }
                let effects = vec![
                    format!(
                        "{} registered as company number {} ({})",
                        record.company_name,
                        record.company_number,
                        Jurisdiction::of(&record.company_number).title()
                    ),
                    format!("registered office {}", record.registered_office.one_line()),
                ];
                companies.insert(record.company_number.clone(), record);
                Ok(NotificationEffect::applied(effects))
            })
            .for_graphql()
    }

    /// Strike a company that has ceased off the register (dissolved on `ceasedOn`).
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn record_company_ceased(
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
                        "no company with this number on the register",
                    ));
                };
                if company.company_status == CompanyStatus::Dissolved {
                    return Ok(NotificationEffect::already_up_to_date(
                        "the company is already dissolved",
                    ));
                }
                company.company_status = CompanyStatus::Dissolved;
                company.dissolved_on = Some(ceased);
                Ok(NotificationEffect::applied(vec![format!(
                    "{} dissolved on {ceased}",
                    company.company_name
                )]))
            })
            .for_graphql()
    }
}

fn validate_registration(
    input: &CompanyRegistrationInput,
) -> Result<CompanyRecord, DepartmentError> {
    let company_number = parse_argument(
        "company.companyNumber",
        &input.company_number,
        parse_company_number,
    )?;
    let company_name = input.company_name.trim().to_uppercase();
    if company_name.is_empty() || company_name.chars().count() > 160 {
        return Err(DepartmentError::argument(
            "company.companyName",
            "COMPANY_NAME_LENGTH",
            "must be 1 to 160 characters",
        ));
    }
    let incorporated_on = not_in_future("company.incorporatedOn", input.incorporated_on)?;
    let registered_office = input
        .registered_office
        .validate("company.registeredOffice")?;
    for code in &input.sic_codes {
        if code.len() != 5 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DepartmentError::argument(
                "company.sicCodes",
                "SIC_CODE_FORMAT",
                "each SIC code must be five digits",
            ));
        }
    }
    Ok(CompanyRecord {
        company_number,
        company_name,
        company_status: CompanyStatus::Active,
        company_type: input.company_type,
        incorporated_on,
        dissolved_on: None,
        registered_office,
        sic_codes: input.sic_codes.clone(),
        officers: Vec::new(),
        filings: vec![Filing {
            date: Date(incorporated_on),
            category: FilingCategory::Incorporation,
            form_type: "IN01".to_string(),
            description: "Incorporation".to_string(),
        }],
    })
}
