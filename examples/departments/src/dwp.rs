//! Department for Work and Pensions: benefit claims by NINO and claim id, and each person's
//! State Pension date (computed from HMRC's date of birth through `@requires`); receives
//! deaths and changes of address.

mod records;
mod seed;
mod state_pension;

use crate::department_error::{parse_argument, ForGraphql};
use crate::hub_identity::HubDelivery;
use crate::identifiers::parse_nino;
use crate::lock_records;
use crate::notification_journal::{NotificationEffect, NotificationRequest};
use crate::shared_types::{
    death_request, not_in_future, partnership_request, Address, AddressInput, Date,
    NotificationKind, NotificationLog, NotificationReceipt,
};
use async_graphql::{Context, EmptySubscription, Object, Schema, SimpleObject};
use chrono::{NaiveDate, Utc};
use records::{ClaimRecord, ClaimantRecord, DwpRecords};
use std::sync::{Arc, Mutex};

pub use records::{Benefit, ClaimStatus, PaymentFrequency};
pub use state_pension::state_pension_date;

/// The DWP subgraph schema.
pub type DwpSchema = Schema<Query, Mutation, EmptySubscription>;

type Store = Arc<Mutex<DwpRecords>>;

/// A new DWP subgraph over freshly seeded records.
pub fn schema() -> DwpSchema {
    let store: Store = Arc::new(Mutex::new(seed::records()));
    Schema::build(Query, Mutation, EmptySubscription)
        .data(store)
        .enable_federation()
        .finish()
}

fn store<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Store> {
    ctx.data::<Store>()
}

/// A person, as DWP sees them: their benefit claims.
#[derive(Debug, Clone)]
pub struct Person {
    nino: String,
    /// Known only when DWP provides the name itself (a claim's claimant).
    name: Option<String>,
    /// Known only when the gateway sends it for `statePensionDate`.
    date_of_birth: Option<NaiveDate>,
}

#[Object]
impl Person {
    async fn nino(&self) -> &str {
        &self.nino
    }

    /// Owned by HMRC; DWP provides it only on a claim's claimant.
    #[graphql(external)]
    async fn name(&self) -> async_graphql::Result<&str> {
        self.name
            .as_deref()
            .ok_or_else(|| "name is not held here".into())
    }

    /// Owned by HMRC; DWP receives it to compute `statePensionDate`.
    #[graphql(external)]
    async fn date_of_birth(&self) -> async_graphql::Result<Date> {
        self.date_of_birth
            .map(Date)
            .ok_or_else(|| "date of birth is not held here".into())
    }

    /// Every benefit claim, most recent first.
    async fn benefit_claims(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<BenefitClaim>> {
        let records = lock_records(store(ctx)?);
        Ok(claims_for(&records, &self.nino))
    }

    /// The address DWP writes to about claims, if the person has ever claimed.
    async fn claimant_address(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Address>> {
        let records = lock_records(store(ctx)?);
        Ok(records.claimants.get(&self.nino).map(|c| c.address.clone()))
    }

    /// The date the person reaches State Pension age (Pensions Acts 1995 to 2014).
    #[graphql(requires = "dateOfBirth")]
    async fn state_pension_date(&self) -> Option<Date> {
        self.date_of_birth.map(|dob| Date(state_pension_date(dob)))
    }
}

/// One claim for one benefit.
#[derive(Debug, Clone, SimpleObject)]
pub struct BenefitClaim {
    pub claim_id: String,
    pub benefit: Benefit,
    pub status: ClaimStatus,
    pub started_on: Date,
    pub ended_on: Option<Date>,
    /// The amount of each payment, in pence.
    pub amount_pence: i32,
    pub payment_frequency: PaymentFrequency,
    #[graphql(provides = "name")]
    pub claimant: Person,
}

fn benefit_claim(records: &DwpRecords, claim: &ClaimRecord) -> BenefitClaim {
    BenefitClaim {
        claim_id: claim.claim_id.clone(),
        benefit: claim.benefit,
        status: claim.status,
        started_on: Date(claim.started_on),
        ended_on: claim.ended_on.map(Date),
        amount_pence: claim.amount_pence,
        payment_frequency: claim.payment_frequency,
        claimant: Person {
            nino: claim.nino.clone(),
            name: records.claimants.get(&claim.nino).map(|c| c.name.clone()),
            date_of_birth: None,
        },
    }
}

fn claims_for(records: &DwpRecords, nino: &str) -> Vec<BenefitClaim> {
    let mut claims: Vec<BenefitClaim> = records
        .claims
        .iter()
        .filter(|c| c.nino == nino)
        .map(|c| benefit_claim(records, c))
        .collect();
    claims.sort_by_key(|x| std::cmp::Reverse(x.started_on));
    claims
}

/// DWP's queries.
pub struct Query;

#[Object]
impl Query {
    /// A benefit claim by its claim id.
    async fn benefit_claim(
        &self,
        ctx: &Context<'_>,
        claim_id: String,
    ) -> async_graphql::Result<Option<BenefitClaim>> {
        let records = lock_records(store(ctx)?);
        let wanted = claim_id.trim().to_uppercase();
        Ok(records
            .claims
            .iter()
            .find(|c| c.claim_id == wanted)
            .map(|c| benefit_claim(&records, c)))
    }

    /// Every benefit claim a person has made, most recent first.
    async fn benefit_claims(
        &self,
        ctx: &Context<'_>,
        nino: String,
    ) -> async_graphql::Result<Vec<BenefitClaim>> {
        let nino = parse_argument("nino", &nino, parse_nino).for_graphql()?;
        let records = lock_records(store(ctx)?);
        Ok(claims_for(&records, &nino))
    }

    /// Notifications received: counts, and the most recent `last` receipts (oldest first).
    async fn dwp_notification_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] last: i32,
    ) -> async_graphql::Result<NotificationLog> {
        let last = usize::try_from(last.max(0)).unwrap_or(0);
        Ok(lock_records(store(ctx)?).journal.log(last))
    }

    /// The receipt for an idempotency key, if that notification has been received.
    async fn dwp_notification_receipt(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
    ) -> async_graphql::Result<Option<NotificationReceipt>> {
        Ok(lock_records(store(ctx)?).journal.receipt(&idempotency_key))
    }

    #[graphql(entity)]
    async fn find_person_by_nino(
        &self,
        #[graphql(key)] nino: String,
        date_of_birth: Option<Date>,
    ) -> async_graphql::Result<Person> {
        let nino = parse_argument("nino", &nino, parse_nino).for_graphql()?;
        Ok(Person {
            nino,
            name: None,
            date_of_birth: date_of_birth.map(|d| d.0),
        })
    }
}

/// DWP's receiving mutations.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Record a claimant's death: every claim in payment ends on the date of death.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn record_claimant_death(
        &self,
        ctx: &Context<'_>,
        nino: String,
        date_of_death: Date,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let (nino, date, request) = death_request(&nino, date_of_death).for_graphql()?;
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let (claimants, claims) = (&mut records.claimants, &mut records.claims);
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                let Some(claimant) = claimants.get_mut(&nino) else {
                    return Ok(NotificationEffect::no_matching_record(
                        "no claimant record for this NINO",
                    ));
                };
                Ok(record_death(claimant, claims, date))
            })
            .for_graphql()
    }

    /// Record a marriage or civil partnership: the partners' claims are
    /// assessed as a couple from its date.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn record_claimant_partnership(
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
        let claimants = &mut records.claimants;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                let mut effects = Vec::new();
                for (nino, partner) in [(&first, &second), (&second, &first)] {
                    if let Some(claimant) = claimants.get_mut(nino) {
                        if claimant.partner.as_ref().is_some_and(|(p, _)| p == partner) {
                            continue;
                        }
                        claimant.partner = Some((partner.clone(), since));
                        effects.push(format!(
                            "{nino}'s claims are assessed as a couple with {partner} from {since}"
                        ));
                    }
                }
                if effects.is_empty() {
                    return Ok(
                        if claimants.contains_key(&first) || claimants.contains_key(&second) {
                            NotificationEffect::already_up_to_date(
                                "the partnership is already recorded",
                            )
                        } else {
                            NotificationEffect::no_matching_record(
                                "no claimant record for either partner",
                            )
                        },
                    );
                }
                Ok(NotificationEffect::applied(effects))
            })
            .for_graphql()
    }

    /// Record a claimant's new address.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn update_claimant_address(
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
        let claimants = &mut records.claimants;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                let Some(claimant) = claimants.get_mut(&nino) else {
                    return Ok(NotificationEffect::no_matching_record(
                        "no claimant record for this NINO",
                    ));
                };
                if claimant.address == address {
                    return Ok(NotificationEffect::already_up_to_date(
                        "this is already the address DWP holds",
                    ));
                }
                let moved_on = moved_on.unwrap_or_else(|| Utc::now().date_naive());
                let effect = format!(
                    "claimant address changed to {} from {moved_on}",
                    address.one_line()
                );
                claimant.address = address;
                Ok(NotificationEffect::applied(vec![effect]))
            })
            .for_graphql()
    }
}

fn record_death(
    claimant: &mut ClaimantRecord,
    claims: &mut [ClaimRecord],
    date: NaiveDate,
) -> NotificationEffect {
    if let Some(existing) = claimant.date_of_death {
        return NotificationEffect::already_up_to_date(format!(
            "claimant already recorded as deceased on {existing}"
        ));
    }
    claimant.date_of_death = Some(date);
    let mut effects = vec![format!("claimant record marked deceased from {date}")];
    for claim in claims
        .iter_mut()
        .filter(|c| c.nino == claimant.nino && c.status != ClaimStatus::Ended)
    {
        claim.status = ClaimStatus::Ended;
        claim.ended_on = Some(date);
        effects.push(format!(
            "{} claim {} ended on {date}; final payment to be calculated to that date",
            claim.benefit.title(),
            claim.claim_id
        ));
    }
    NotificationEffect::applied(effects)
}
