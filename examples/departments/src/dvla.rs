//! Driver and Vehicle Licensing Agency: driving licences (by driver number and NINO) and
//! vehicles (by registration); receives deaths and changes of address, and publishes each
//! vehicle change as the `vehicleStatusChanged` subscription.

mod records;
mod seed;

use crate::department_error::{parse_argument, ForGraphql};
use crate::hub_identity::HubDelivery;
use crate::identifiers::{parse_driving_licence_number, parse_nino, parse_vehicle_registration};
use crate::lock_records;
use crate::notification_journal::{NotificationEffect, NotificationRequest};
use crate::shared_types::{
    death_request, not_in_future, AddressInput, Date, NotificationKind, NotificationLog,
    NotificationReceipt,
};
use async_graphql::futures_util::stream::{self, Stream, StreamExt};
use async_graphql::{Context, Object, Schema, SimpleObject, Subscription};
use chrono::NaiveDate;
use records::{DvlaRecords, LicenceRecord, VehicleRecord};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

pub use records::{Endorsement, Entitlement, FuelType, LicenceStatus, LicenceType, TaxStatus};

/// The DVLA subgraph schema.
pub type DvlaSchema = Schema<Query, Mutation, SubscriptionRoot>;

type Store = Arc<Mutex<DvlaRecords>>;

/// Vehicle changes a subscriber has not taken yet; one who falls this far behind skips ahead.
const VEHICLE_CHANGE_BUFFER: usize = 256;

/// Every change DVLA makes to a vehicle, for `vehicleStatusChanged` subscribers.
#[derive(Debug, Clone)]
struct VehicleChanges(broadcast::Sender<Vehicle>);

impl VehicleChanges {
    /// Publishes the vehicles now held under `registrations` (no subscriber is no error).
    fn publish(&self, records: &DvlaRecords, registrations: &[String]) {
        for vehicle in registrations
            .iter()
            .filter_map(|registration| records.vehicles.get(registration))
        {
            let _ = self.0.send(Vehicle::from_record(vehicle));
        }
    }
}

/// A new DVLA subgraph over freshly seeded records.
pub fn schema() -> DvlaSchema {
    let store: Store = Arc::new(Mutex::new(seed::records()));
    let (changes, _) = broadcast::channel(VEHICLE_CHANGE_BUFFER);
    Schema::build(Query, Mutation, SubscriptionRoot)
        .data(store)
        .data(VehicleChanges(changes))
        .enable_federation()
        .enable_subscription_in_federation()
        .finish()
}

fn store<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Store> {
    ctx.data::<Store>()
}

/// A person, as DVLA sees them: their licence and the vehicles they keep.
#[derive(Debug, Clone)]
pub struct Person {
    nino: String,
}

#[Object]
impl Person {
    async fn nino(&self) -> &str {
        &self.nino
    }

    /// The person's driving licence, if they hold one.
    async fn driving_licence(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<DrivingLicence>> {
        let records = lock_records(store(ctx)?);
        Ok(records
            .licences
            .values()
            .find(|l| l.nino.as_deref() == Some(self.nino.as_str()))
            .map(DrivingLicence::from_record))
    }

    /// Vehicles the person is the registered keeper of.
    async fn vehicles(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Vehicle>> {
        let records = lock_records(store(ctx)?);
        Ok(records
            .vehicles
            .values()
            .filter(|v| v.keeper_nino.as_deref() == Some(self.nino.as_str()))
            .map(Vehicle::from_record)
            .collect())
    }
}

/// A GB driving licence (photocard).
#[derive(Debug, Clone, SimpleObject)]
pub struct DrivingLicence {
    /// The sixteen-character driver number.
    pub licence_number: String,
    /// The photocard issue number (goes up with every replacement card).
    pub issue_number: i32,
    pub surname: String,
    pub first_names: String,
    pub date_of_birth: Date,
    pub address: crate::shared_types::Address,
    pub licence_type: LicenceType,
    pub status: LicenceStatus,
    pub photocard_issued_on: Date,
    pub photocard_expires_on: Date,
    pub entitlements: Vec<Entitlement>,
    pub endorsements: Vec<Endorsement>,
    /// Penalty points from endorsements still counted (within three years of the offence).
    pub penalty_points: i32,
    /// The holder, when DVLA has their National Insurance number.
    pub holder: Option<Person>,
}

impl DrivingLicence {
    fn from_record(record: &LicenceRecord) -> DrivingLicence {
        let today = chrono::Utc::now().date_naive();
        let penalty_points = record
            .endorsements
            .iter()
            .filter(|e| {
                e.offence_on
                    .0
                    .checked_add_months(chrono::Months::new(36))
                    .is_some_and(|end| end > today)
            })
            .map(|e| e.points)
            .sum();
        DrivingLicence {
            licence_number: record.licence_number.clone(),
            issue_number: record.issue_number,
            surname: record.surname.to_uppercase(),
            first_names: record.first_names.to_uppercase(),
            date_of_birth: Date(record.date_of_birth),
            address: record.address.clone(),
            licence_type: record.licence_type,
            status: record.status,
            photocard_issued_on: Date(record.photocard_issued_on),
            photocard_expires_on: Date(record.photocard_expires_on),
            entitlements: record.entitlements.clone(),
            endorsements: record.endorsements.clone(),
            penalty_points,
            holder: record.nino.clone().map(|nino| Person { nino }),
        }
    }
}

/// A vehicle on the DVLA register.
#[derive(Debug, Clone, SimpleObject)]
pub struct Vehicle {
    pub registration: String,
    pub make: String,
    pub model: String,
    pub colour: String,
    pub fuel_type: FuelType,
    pub year_of_manufacture: i32,
    /// Official CO2 emissions, grams per kilometre.
    pub co2_emissions: Option<i32>,
    pub tax_status: TaxStatus,
    pub tax_due_on: Option<Date>,
    pub mot_expires_on: Option<Date>,
    /// The registered keeper, when the keeper is a person DVLA can match by NINO.
    pub keeper: Option<Person>,
}

impl Vehicle {
    fn from_record(record: &VehicleRecord) -> Vehicle {
        Vehicle {
            registration: record.registration.clone(),
            make: record.make.clone(),
            model: record.model.clone(),
            colour: record.colour.clone(),
            fuel_type: record.fuel_type,
            year_of_manufacture: record.year_of_manufacture,
            co2_emissions: record.co2_emissions,
            tax_status: record.tax_status,
            tax_due_on: record.tax_due_on.map(Date),
            mot_expires_on: record.mot_expires_on.map(Date),
            keeper: record.keeper_nino.clone().map(|nino| Person { nino }),
        }
    }
}

/// DVLA's queries.
pub struct Query;

#[Object]
impl Query {
    /// A driving licence by driver number.
    async fn driving_licence(
        &self,
        ctx: &Context<'_>,
        number: String,
    ) -> async_graphql::Result<Option<DrivingLicence>> {
        let number =
            parse_argument("number", &number, parse_driving_licence_number).for_graphql()?;
        let records = lock_records(store(ctx)?);
        Ok(records
            .licences
            .get(&number)
            .map(DrivingLicence::from_record))
    }

    /// A vehicle by registration number.
    async fn vehicle(
        &self,
        ctx: &Context<'_>,
        registration: String,
    ) -> async_graphql::Result<Option<Vehicle>> {
        let registration =
            parse_argument("registration", &registration, parse_vehicle_registration)
                .for_graphql()?;
        let records = lock_records(store(ctx)?);
        Ok(records
            .vehicles
            .get(&registration)
            .map(Vehicle::from_record))
    }

    /// Notifications received: counts, and the most recent `last` receipts (oldest first).
    async fn dvla_notification_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] last: i32,
    ) -> async_graphql::Result<NotificationLog> {
        let last = usize::try_from(last.max(0)).unwrap_or(0);
        Ok(lock_records(store(ctx)?).journal.log(last))
    }

    /// The receipt for an idempotency key, if that notification has been received.
    async fn dvla_notification_receipt(
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

/// DVLA's receiving mutations.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Record a licence holder's death: the licence is cancelled and each vehicle they keep
    /// is flagged for the executors (any unused vehicle tax is refunded).
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn record_licence_holder_death(
        &self,
        ctx: &Context<'_>,
        nino: String,
        date_of_death: Date,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let (nino, date, request) = death_request(&nino, date_of_death).for_graphql()?;
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let (licences, vehicles) = (&mut records.licences, &mut records.vehicles);
        let mut changed = Vec::new();
        let receipt = records
            .journal
            .apply_once(&idempotency_key, request, || {
                Ok(record_death(licences, vehicles, &nino, date, &mut changed))
            })
            .for_graphql();
        ctx.data::<VehicleChanges>()?.publish(records, &changed);
        receipt
    }

    /// Record a licence holder's new name from the day it takes effect: a
    /// replacement photocard in the new name is issued.
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn update_licence_holder_name(
        &self,
        ctx: &Context<'_>,
        nino: String,
        new_given_names: String,
        new_family_name: String,
        effective_on: Date,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let nino = parse_argument("nino", &nino, parse_nino).for_graphql()?;
        let effective = not_in_future("effectiveOn", effective_on).for_graphql()?;
        let (first_names, surname) = (
            new_given_names.to_uppercase(),
            new_family_name.to_uppercase(),
        );
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let request = NotificationRequest {
            kind: NotificationKind::ChangeOfName,
            subject: nino.clone(),
            details: format!("name={first_names} {surname}|effectiveOn={effective}"),
        };
        let licences = &mut records.licences;
        records
            .journal
            .apply_once(&idempotency_key, request, || {
                let mut matched = false;
                let mut effects = Vec::new();
                for licence in licences
                    .values_mut()
                    .filter(|l| l.nino.as_deref() == Some(nino.as_str()))
                {
                    matched = true;
                    if (licence.first_names.as_str(), licence.surname.as_str())
                        != (first_names.as_str(), surname.as_str())
                    {
                        licence.first_names = first_names.clone();
                        licence.surname = surname.clone();
                        licence.issue_number += 1;
                        effects.push(format!(
                            "licence {} now in the name {first_names} {surname} from {effective}; replacement photocard issue {} sent",
                            licence.licence_number, licence.issue_number
                        ));
                    }
                }
                Ok(match (matched, effects.is_empty()) {
                    (false, _) => NotificationEffect::no_matching_record(
                        "no driving licence for this NINO",
                    ),
                    (true, true) => NotificationEffect::already_up_to_date(
                        "the licence is already in this name",
                    ),
                    (true, false) => NotificationEffect::applied(effects),
                })
            })
            .for_graphql()
    }

    /// Record a licence holder's new address: a replacement photocard is issued and the
    /// keeper address of each vehicle they keep is changed (a new V5C is sent).
    #[graphql(guard = "HubDelivery", inaccessible)]
    async fn update_licence_holder_address(
        &self,
        ctx: &Context<'_>,
        nino: String,
        address: AddressInput,
        idempotency_key: String,
    ) -> async_graphql::Result<NotificationReceipt> {
        let nino = parse_argument("nino", &nino, parse_nino).for_graphql()?;
        let address = address.validate("address").for_graphql()?;
        let mut guard = lock_records(store(ctx)?);
        let records = &mut *guard;
        let request = NotificationRequest {
            kind: NotificationKind::ChangeOfAddress,
            subject: nino.clone(),
            details: format!("address={}", address.one_line()),
        };
        let (licences, vehicles) = (&mut records.licences, &mut records.vehicles);
        let mut changed = Vec::new();
        let receipt = records
            .journal
            .apply_once(&idempotency_key, request, || {
                let mut effects = Vec::new();
                let mut matched = false;
                for licence in licences
                    .values_mut()
                    .filter(|l| l.nino.as_deref() == Some(nino.as_str()))
                {
                    matched = true;
                    if licence.address != address && licence.status == LicenceStatus::Valid {
                        licence.address = address.clone();
                        licence.issue_number += 1;
                        effects.push(format!(
                            "licence {} address changed; replacement photocard issue {} sent",
                            licence.licence_number, licence.issue_number
                        ));
                    }
                }
                for vehicle in vehicles
                    .values_mut()
                    .filter(|v| v.keeper_nino.as_deref() == Some(nino.as_str()))
                {
                    matched = true;
                    if vehicle.keeper_address != address {
                        vehicle.keeper_address = address.clone();
                        changed.push(vehicle.registration.clone());
                        effects.push(format!(
                            "keeper address for {} changed; new V5C registration certificate sent",
                            vehicle.registration
                        ));
                    }
                }
                Ok(if !matched {
                    NotificationEffect::no_matching_record("no licence or vehicle for this NINO")
                } else if effects.is_empty() {
                    NotificationEffect::already_up_to_date("this is already the address DVLA holds")
                } else {
                    NotificationEffect::applied(effects)
                })
            })
            .for_graphql();
        ctx.data::<VehicleChanges>()?.publish(records, &changed);
        receipt
    }
}

/// DVLA's subscriptions.
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// The vehicle, each time DVLA changes it (its keeper flagged deceased, its tax cancelled,
    /// its keeper address changed); only the vehicle with `registration` when given.
    async fn vehicle_status_changed(
        &self,
        ctx: &Context<'_>,
        registration: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = Vehicle>> {
        let registration = registration
            .map(|r| parse_argument("registration", &r, parse_vehicle_registration))
            .transpose()
            .for_graphql()?;
        let receiver = ctx.data::<VehicleChanges>()?.0.subscribe();
        let changes = stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(vehicle) => return Some((vehicle, receiver)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Ok(changes.filter(move |vehicle| {
            let wanted = registration
                .as_ref()
                .is_none_or(|r| *r == vehicle.registration);
            async move { wanted }
        }))
    }
}

fn record_death(
    licences: &mut std::collections::BTreeMap<String, LicenceRecord>,
    vehicles: &mut std::collections::BTreeMap<String, VehicleRecord>,
    nino: &str,
    date: NaiveDate,
    changed: &mut Vec<String>,
) -> NotificationEffect {
    let mut effects = Vec::new();
    let mut matched = false;
    for licence in licences
        .values_mut()
        .filter(|l| l.nino.as_deref() == Some(nino))
    {
        matched = true;
        if licence.status != LicenceStatus::CancelledHolderDeceased {
            licence.status = LicenceStatus::CancelledHolderDeceased;
            effects.push(format!(
                "licence {} cancelled: holder died on {date}",
                licence.licence_number
            ));
        }
    }
    for vehicle in vehicles
        .values_mut()
        .filter(|v| v.keeper_nino.as_deref() == Some(nino))
    {
        matched = true;
        if !vehicle.keeper_deceased {
            vehicle.keeper_deceased = true;
            changed.push(vehicle.registration.clone());
            let mut effect = format!(
                "{} flagged: keeper deceased, new keeper to be notified",
                vehicle.registration
            );
            if vehicle.tax_status == TaxStatus::Taxed {
                vehicle.tax_status = TaxStatus::Untaxed;
                vehicle.tax_due_on = None;
                effect.push_str("; vehicle tax cancelled and refund due to the estate");
            }
            effects.push(effect);
        }
    }
    if !matched {
        NotificationEffect::no_matching_record("no licence or vehicle for this NINO")
    } else if effects.is_empty() {
        NotificationEffect::already_up_to_date("the holder's death is already recorded")
    } else {
        NotificationEffect::applied(effects)
    }
}
