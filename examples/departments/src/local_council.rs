//! The local council: Council Tax, the electoral register, Blue Badges and Housing Benefit
//! (by NINO and account number); receives deaths, births and changes of address, the one
//! body Tell Us Once tells of every death.
//!
//! One subgraph speaks for several councils, each serving the postcode areas in
//! [`records::council_for`]: a move within a council's area moves the account, a move to
//! another council's area closes it there and opens one with the new council.

mod records;

use crate::department_error::{parse_argument, DepartmentError, ForGraphql};
use crate::hub_identity::HubDelivery;
use crate::identifiers::parse_nino;
use crate::lock_records;
use crate::notification_journal::{NotificationEffect, NotificationRequest};
use crate::shared_types::{
    death_request, not_in_future, Address, AddressInput, Date, NotificationKind, NotificationLog,
    NotificationReceipt,
};
use async_graphql::{Context, EmptySubscription, Object, Schema, SimpleObject};
use chrono::{NaiveDate, Utc};
use records::{
    council_for, AccountNumbers, ChildRecord, CouncilRecords, CouncilTaxAccountStatus,
    CouncilTaxRecord, ElectoralRecord, ElectoralRegistrationStatus, HousingBenefitStatus, Resident,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub use records::{BlueBadgeStatus, CouncilTaxBand};

/// The local council subgraph schema.
pub type LocalCouncilSchema = Schema<Query, Mutation, EmptySubscription>;

type Store = Arc<Mutex<CouncilRecords>>;

/// A new local council subgraph over freshly seeded records.
pub fn schema() -> LocalCouncilSchema {
    let store: Store = Arc::new(Mutex::new(records::seed()));
    Schema::build(Query, Mutation, EmptySubscription)
        .data(store)
        .enable_federation()
        .finish()
}

fn store<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Store> {
    ctx.data::<Store>()
}

/// A Council Tax account.
#[derive(Debug, Clone, SimpleObject)]
pub struct CouncilTaxAccount {
    pub account_number: String,
    pub council: String,
    pub address: Address,
    /// Unknown until the address is matched to the valuation list.
    pub band: Option<CouncilTaxBand>,
    pub status: CouncilTaxAccountStatus,
    /// Whether the 25 % discount for one adult living alone applies.
    pub single_person_discount: bool,
    pub opened_on: Date,
    pub closed_on: Option<Date>,
}

impl From<&CouncilTaxRecord> for CouncilTaxAccount {
    fn from(record: &CouncilTaxRecord) -> Self {
        CouncilTaxAccount {
            account_number: record.account_number.clone(),
            council: record.council.to_string(),
            address: record.address.clone(),
            band: record.band,
            status: record.status,
            single_person_discount: record.single_person_discount(),
            opened_on: Date(record.opened_on),
            closed_on: record.closed_on.map(Date),
        }
    }
}

/// A person's entry on a council's electoral register.
#[derive(Debug, Clone, SimpleObject)]
pub struct ElectoralRegistration {
    pub council: String,
    pub status: ElectoralRegistrationStatus,
    pub registered_on: Date,
    pub removed_on: Option<Date>,
}

/// A Blue Badge (disabled person's parking badge).
#[derive(Debug, Clone, SimpleObject)]
pub struct BlueBadge {
    pub badge_number: String,
    pub council: String,
    pub expires_on: Date,
    pub status: BlueBadgeStatus,
}

/// A Housing Benefit claim.
#[derive(Debug, Clone, SimpleObject)]
pub struct HousingBenefitClaim {
    pub claim_reference: String,
    pub council: String,
    /// The weekly award, in pence.
    pub weekly_amount_pence: i32,
    pub dependent_children: i32,
    pub status: HousingBenefitStatus,
    pub ended_on: Option<Date>,
}

/// A child registered to a resident, for early years and school admissions.
#[derive(Debug, Clone, SimpleObject)]
pub struct RegisteredChild {
    pub given_names: String,
    pub family_name: String,
    pub date_of_birth: Date,
}

/// A person, as the local council sees them.
#[derive(Debug, Clone)]
pub struct Person {
    nino: String,
}

impl Person {
    fn with<T>(
        &self,
        ctx: &Context<'_>,
        read: impl FnOnce(&Resident) -> T,
    ) -> async_graphql::Result<Option<T>> {
        let records = lock_records(store(ctx)?);
        Ok(records.residents.get(&self.nino).map(read))
    }
}

#[Object]
impl Person {
    async fn nino(&self) -> &str {
        &self.nino
    }

    /// Every Council Tax account the person has held, the current one first.
    async fn council_tax_accounts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<CouncilTaxAccount>> {
        Ok(self
            .with(ctx, |r| {
                r.council_tax
                    .iter()
                    .rev()
                    .map(CouncilTaxAccount::from)
                    .collect()
            })?
            .unwrap_or_default())
    }

    async fn electoral_registration(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<ElectoralRegistration>> {
        Ok(self
            .with(ctx, |r| {
                r.electoral.as_ref().map(|e| ElectoralRegistration {
                    council: e.council.to_string(),
                    status: e.status,
                    registered_on: Date(e.registered_on),
                    removed_on: e.removed_on.map(Date),
                })
            })?
            .flatten())
    }

    async fn blue_badge(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<BlueBadge>> {
        let today = Utc::now().date_naive();
        Ok(self
            .with(ctx, |r| {
                r.blue_badge.as_ref().map(|b| BlueBadge {
                    badge_number: b.badge_number.clone(),
                    council: b.council.to_string(),
                    expires_on: Date(b.expires_on),
                    status: b.status(today),
                })
            })?
            .flatten())
    }

    async fn housing_benefit_claim(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<HousingBenefitClaim>> {
        Ok(self
            .with(ctx, |r| {
                r.housing_benefit.as_ref().map(|h| HousingBenefitClaim {
                    claim_reference: h.claim_reference.clone(),
                    council: h.council.to_string(),
                    weekly_amount_pence: h.weekly_amount_pence,
                    dependent_children: i32::from(h.dependent_children),
                    status: h.status,
                    ended_on: h.ended_on.map(Date),
                })
            })?
            .flatten())
    }

    /// Children registered to the person, oldest first.
    async fn registered_children(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<RegisteredChild>> {
        Ok(self
            .with(ctx, |r| {
                r.children
                    .iter()
                    .map(|c| RegisteredChild {
                        given_names: c.given_names.clone(),
                        family_name: c.family_name.clone(),
                        date_of_birth: Date(c.date_of_birth),
                    })
                    .collect()
            })?
            .unwrap_or_default())
    }
}

/// The local council's queries.
pub struct Query;

#[Object]
impl Query {
    /// A Council Tax account by its nine-digit number.
    async fn council_tax_account(
        &self,
        ctx: &Context<'_>,
        account_number: String,
    ) -> async_graphql::Result<Option<CouncilTaxAccount>> {
        let number = account_number.trim();
        if number.len() != 9 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DepartmentError::argument(
                "accountNumber",
                "ACCOUNT_NUMBER_FORMAT",
                "must be nine digits",
            ))
            .for_graphql();
        }
        let records = lock_records(store(ctx)?);
        Ok(records
            .residents
            .values()
            .flat_map(|r| r.council_tax.iter())
            .find(|a| a.account_number == number)
            .map(CouncilTaxAccount::from))
    }

    /// Notifications received: counts, and the most recent `last` receipts (oldest first).
    async fn local_council_notification_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] last: i32,
    ) -> async_graphql::Result<NotificationLog> {
        let last = usize::try_from(last.max(0)).unwrap_or(0);
        Ok(lock_records(store(ctx)?).journal.log(last))
    }

    /// The receipt for an idempotency key, if that notification has been received.
    async fn local_council_notification_receipt(
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

/// The local council's receiving mutations.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Record a resident's death: Council Tax (exempt while the estate is settled if they
    /// lived alone), the electoral register, any Blue Badge and Housing Benefit.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn record_resident_death(
        &self,
        ctx: &Context<'_>,
        nino: String,
        date_of_death: Date,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let (nino, date, request) = death_request(&nino, date_of_death).for_graphql()?;
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let residents = &mut records.residents;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                Ok(match residents.get_mut(&nino) {
                    None => NotificationEffect::no_matching_record("no resident with this NINO"),
                    Some(resident) => record_death(resident, date),
                })
            })
            .for_graphql()
    }

    /// Record a birth registered by a resident: the child is registered to the household
    /// and any Housing Benefit is reassessed for one more dependent child.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn record_birth_in_household(
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
        let child = ChildRecord {
            given_names: child_given_names.trim().to_string(),
            family_name: child_family_name.trim().to_string(),
            date_of_birth: born,
        };
        let request = NotificationRequest {
            kind: NotificationKind::Birth,
            subject: nino.clone(),
            details: format!(
                "child={} {}|born={born}",
                child.given_names, child.family_name
            ),
        };
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let residents = &mut records.residents;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                let Some(resident) = residents.get_mut(&nino) else {
                    return Ok(NotificationEffect::no_matching_record(
                        "the registering parent is not a resident",
                    ));
                };
                if resident.children.contains(&child) {
                    return Ok(NotificationEffect::already_up_to_date(
                        "the child is already registered to the household",
                    ));
                }
                let mut effects = vec![format!(
                    "{} {}, born {born}, registered to the household for early years and school admissions",
                    child.given_names, child.family_name
                )];
                if let Some(claim) = resident
                    .housing_benefit
                    .as_mut()
                    .filter(|h| h.status == HousingBenefitStatus::InPayment)
                {
                    claim.dependent_children = claim.dependent_children.saturating_add(1);
                    effects.push(format!(
                        "Housing Benefit claim {} reassessed for {} dependent children",
                        claim.claim_reference, claim.dependent_children
                    ));
                }
                resident.children.push(child.clone());
                Ok(NotificationEffect::applied(effects))
            })
            .for_graphql()
    }

    /// Record a resident's move: the Council Tax account moves with them within the council's
    /// area; a move to another council's area closes the account, the electoral registration
    /// and Housing Benefit here, and opens an account with the new council.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn update_resident_address(
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
        let request = NotificationRequest {
            kind: NotificationKind::ChangeOfAddress,
            subject: nino.clone(),
            details: format!("address={}|movedOn={moved_on:?}", address.one_line()),
        };
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let CouncilRecords {
            residents,
            account_numbers,
            journal,
        } = records;
        journal
            .apply_once(&idempotency_key, request, || {
                let moved_on = moved_on.unwrap_or_else(|| Utc::now().date_naive());
                Ok(record_move(
                    residents,
                    account_numbers,
                    &nino,
                    address,
                    moved_on,
                ))
            })
            .for_graphql()
    }
}

fn record_death(resident: &mut Resident, date: NaiveDate) -> NotificationEffect {
    let mut effects = Vec::new();
    if let Some(account) = resident.liable_account() {
        account.closed_on = Some(date);
        if account.occupants <= 1 {
            account.status = CouncilTaxAccountStatus::ExemptDeceasedEstate;
            effects.push(format!(
                "Council Tax account {} exempt from {date} while the estate is settled (Class F)",
                account.account_number
            ));
        } else {
            account.status = CouncilTaxAccountStatus::ClosedDeceased;
            effects.push(format!(
                "Council Tax account {} closed on {date}: liability passes to the other occupants",
                account.account_number
            ));
        }
    }
    if let Some(entry) = resident
        .electoral
        .as_mut()
        .filter(|e| e.status == ElectoralRegistrationStatus::Registered)
    {
        entry.status = ElectoralRegistrationStatus::RemovedDeceased;
        entry.removed_on = Some(date);
        effects.push(format!(
            "removed from the {} electoral register",
            entry.council
        ));
    }
    let today = Utc::now().date_naive();
    if let Some(badge) = resident
        .blue_badge
        .as_mut()
        .filter(|b| b.status(today) == BlueBadgeStatus::Valid)
    {
        badge.cancelled = true;
        effects.push(format!(
            "Blue Badge {} cancelled: to be returned",
            badge.badge_number
        ));
    }
    if let Some(claim) = resident
        .housing_benefit
        .as_mut()
        .filter(|h| h.status == HousingBenefitStatus::InPayment)
    {
        claim.status = HousingBenefitStatus::EndedDeceased;
        claim.ended_on = Some(date);
        effects.push(format!(
            "Housing Benefit claim {} ended on {date}",
            claim.claim_reference
        ));
    }
    if effects.is_empty() {
        NotificationEffect::already_up_to_date("the council's records already show the death")
    } else {
        NotificationEffect::applied(effects)
    }
}

fn record_move(
    residents: &mut BTreeMap<String, Resident>,
    account_numbers: &mut AccountNumbers,
    nino: &str,
    address: Address,
    moved_on: NaiveDate,
) -> NotificationEffect {
    let new_council = council_for(&address.postcode);
    let known = residents.contains_key(nino);
    if !known && new_council.is_none() {
        return NotificationEffect::no_matching_record(
            "not a resident, and the new address is outside the councils served here",
        );
    }
    let resident = residents.entry(nino.to_string()).or_default();
    let mut effects = Vec::new();
    let mut occupants = 1;
    if let Some(account) = resident.liable_account() {
        if account.address == address {
            return NotificationEffect::already_up_to_date(
                "this is already the address the council holds",
            );
        }
        account.status = CouncilTaxAccountStatus::ClosedMovedOut;
        account.closed_on = Some(moved_on);
        occupants = account.occupants;
        effects.push(format!(
            "Council Tax account {} at {} closed on {moved_on}",
            account.account_number,
            account.address.one_line()
        ));
        if Some(account.council) != new_council {
            let old_council = account.council;
            leave_council(resident, old_council, moved_on, &mut effects);
        }
    }
    match new_council {
        Some(council) => {
            let account_number = account_numbers.issue();
            effects.push(format!(
                "Council Tax account {account_number} opened with {council} at {} from {moved_on}",
                address.one_line()
            ));
            let registered_here = resident
                .electoral
                .as_ref()
                .is_some_and(|e| e.council == council);
            if registered_here {
                effects.push("electoral register entry moved to the new address".to_string());
            } else {
                effects.push(format!(
                    "{council} sends an invitation to register to vote at the new address"
                ));
            }
            if let Some(claim) = resident
                .housing_benefit
                .as_ref()
                .filter(|h| h.council == council && h.status == HousingBenefitStatus::InPayment)
            {
                effects.push(format!(
                    "Housing Benefit claim {} reassessed for the new address",
                    claim.claim_reference
                ));
            }
            resident.council_tax.push(CouncilTaxRecord {
                account_number,
                council,
                address,
                band: None,
                occupants,
                status: CouncilTaxAccountStatus::Liable,
                opened_on: moved_on,
                closed_on: None,
            });
        }
        None => effects.push(format!(
            "{} is outside the councils served here: the council for it is not connected",
            address.one_line()
        )),
    }
    NotificationEffect::applied(effects)
}

/// A resident moving out of `council`'s area leaves its register and its Housing Benefit.
fn leave_council(
    resident: &mut Resident,
    council: &'static str,
    moved_on: NaiveDate,
    effects: &mut Vec<String>,
) {
    if let Some(entry) = resident
        .electoral
        .as_mut()
        .filter(|e: &&mut ElectoralRecord| {
            e.council == council && e.status == ElectoralRegistrationStatus::Registered
        })
    {
        entry.status = ElectoralRegistrationStatus::RemovedMovedOut;
        entry.removed_on = Some(moved_on);
        effects.push(format!("removed from the {council} electoral register"));
    }
    if let Some(claim) = resident
        .housing_benefit
        .as_mut()
        .filter(|h| h.council == council && h.status == HousingBenefitStatus::InPayment)
    {
        claim.status = HousingBenefitStatus::EndedMovedOut;
        claim.ended_on = Some(moved_on);
        effects.push(format!(
            "Housing Benefit claim {} ended on {moved_on}: claim again from the new council",
            claim.claim_reference
        ));
    }
}
