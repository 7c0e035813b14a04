//! DVLA's seed licences and vehicles, for people in the shared population.

use super::records::{
    DvlaRecords, Endorsement, Entitlement, FuelType, LicenceRecord, LicenceStatus, LicenceType,
    TaxStatus, VehicleRecord,
};
use crate::businesses::business;
use crate::notification_journal::NotificationJournal;
use crate::population::{citizens, seed_date};
use crate::shared_types::{Address, Date};
use chrono::{Months, NaiveDate};

/// Driver number, photocard issue number and photocard issue date by NINO.
fn licence_details(nino: &str) -> Option<(&'static str, i32, NaiveDate)> {
    Some(match nino {
        "JK528194C" => ("THOMP553147ME9LK", 4, seed_date(2019, 6, 3)),
        "SP347102A" => ("OKAFO807224DJ9WX", 3, seed_date(2021, 7, 19)),
        "NE712348B" => ("SHARM961051P99TC", 2, seed_date(2020, 2, 11)),
        "WM195627D" => ("WILLI409308GR9HN", 6, seed_date(2018, 10, 1)),
        "PC834016A" => ("KHAN9052171A99MZ", 1, seed_date(2024, 5, 28)),
        "JG103827C" => ("MCDON612019RJ9EP", 5, seed_date(2022, 1, 17)),
        "TW580173B" => ("HUGHE756096EG9SA", 3, seed_date(2017, 8, 24)),
        "YH472985A" => ("OBRIE604183TP9LC", 4, seed_date(2023, 3, 9)),
        _ => return None,
    })
}

fn entitlement(
    category: &str,
    from: NaiveDate,
    until: NaiveDate,
    provisional: bool,
) -> Entitlement {
    Entitlement {
        category: category.to_string(),
        valid_from: Date(from),
        valid_until: Date(until),
        provisional,
    }
}

/// The day before the holder's 70th birthday: when car entitlements need renewing.
fn until_seventy(dob: NaiveDate) -> NaiveDate {
    dob.checked_add_months(Months::new(70 * 12))
        .and_then(|d| d.pred_opt())
        .unwrap_or(dob)
}

/// Make, model, colour, fuel, year of manufacture and CO2 g/km.
type VehicleDescription<'a> = (&'a str, &'a str, &'a str, FuelType, i32, Option<i32>);
/// Vehicle tax due date and MOT expiry.
type VehicleDates = ((i32, u32, u32), Option<(i32, u32, u32)>);

fn vehicle(
    registration: &str,
    (make, model, colour, fuel_type, year_of_manufacture, co2_emissions): VehicleDescription<'_>,
    (tax_due, mot_expires): VehicleDates,
    (keeper_nino, keeper_address): (Option<&str>, Address),
) -> VehicleRecord {
    VehicleRecord {
        registration: registration.to_string(),
        make: make.to_string(),
        model: model.to_string(),
        colour: colour.to_string(),
        fuel_type,
        year_of_manufacture,
        co2_emissions,
        tax_status: TaxStatus::Taxed,
        tax_due_on: Some(seed_date(tax_due.0, tax_due.1, tax_due.2)),
        mot_expires_on: mot_expires.map(|(y, m, d)| seed_date(y, m, d)),
        keeper_nino: keeper_nino.map(str::to_string),
        keeper_address,
        keeper_deceased: false,
    }
}

pub(super) fn records() -> DvlaRecords {
    let people = citizens();
    let mut licences = std::collections::BTreeMap::new();
    for c in &people {
        let Some((number, issue_number, issued_on)) = licence_details(c.nino) else {
            continue;
        };
        let provisional = c.nino == "PC834016A";
        let passed_test = c
            .date_of_birth
            .checked_add_months(Months::new(17 * 12 + 7))
            .unwrap_or(c.date_of_birth);
        let mut entitlements = vec![entitlement(
            "B",
            passed_test,
            until_seventy(c.date_of_birth),
            provisional,
        )];
        if !provisional {
            entitlements.push(entitlement(
                "AM",
                passed_test,
                until_seventy(c.date_of_birth),
                false,
            ));
            entitlements.push(entitlement(
                "F",
                passed_test,
                until_seventy(c.date_of_birth),
                false,
            ));
        }
        if c.date_of_birth < seed_date(1970, 1, 1) {
            // Passed a car test before 1997: minibus and medium lorry "grandfather rights".
            entitlements.push(entitlement(
                "C1",
                passed_test,
                until_seventy(c.date_of_birth),
                false,
            ));
            entitlements.push(entitlement(
                "D1",
                passed_test,
                until_seventy(c.date_of_birth),
                false,
            ));
        }
        let endorsements = match c.nino {
            "NE712348B" => vec![Endorsement {
                offence_code: "SP30".to_string(),
                offence_on: Date(seed_date(2024, 8, 14)),
                convicted_on: Date(seed_date(2024, 10, 2)),
                points: 3,
            }],
            _ => Vec::new(),
        };
        licences.insert(
            number.to_string(),
            LicenceRecord {
                licence_number: number.to_string(),
                issue_number,
                nino: Some(c.nino.to_string()),
                surname: c.family_name.to_string(),
                first_names: c.given_names.to_string(),
                date_of_birth: c.date_of_birth,
                address: c.address.clone(),
                licence_type: if provisional {
                    LicenceType::Provisional
                } else {
                    LicenceType::Full
                },
                status: LicenceStatus::Valid,
                photocard_issued_on: issued_on,
                photocard_expires_on: issued_on
                    .checked_add_months(Months::new(120))
                    .and_then(|d| d.pred_opt())
                    .unwrap_or(issued_on),
                entitlements,
                endorsements,
            },
        );
    }

    let address_of = |nino: &str| {
        people
            .iter()
            .find(|c| c.nino == nino)
            .map(|c| c.address.clone())
            .unwrap_or_else(|| Address::new("", None, "", ""))
    };
    let fleet_address = business("07451329")
        .map(|b| b.registered_office)
        .unwrap_or_else(|| Address::new("", None, "", ""));
    use FuelType::*;
    let vehicles = [
        vehicle(
            "YD21 KXE",
            (
                "TOYOTA",
                "YARIS HYBRID",
                "SILVER",
                HybridElectric,
                2021,
                Some(92),
            ),
            ((2027, 3, 1), Some((2027, 3, 30))),
            (Some("JK528194C"), address_of("JK528194C")),
        ),
        vehicle(
            "YH70 OPR",
            ("TESLA", "MODEL 3", "WHITE", Electricity, 2020, Some(0)),
            ((2027, 10, 1), Some((2027, 9, 29))),
            (Some("SP347102A"), address_of("SP347102A")),
        ),
        vehicle(
            "CU15 RFO",
            ("SKODA", "OCTAVIA", "BLUE", Diesel, 2015, Some(109)),
            ((2027, 6, 1), Some((2027, 5, 12))),
            (Some("WM195627D"), address_of("WM195627D")),
        ),
        vehicle(
            "SN19 LHV",
            ("FORD", "TRANSIT CUSTOM", "WHITE", Diesel, 2019, Some(176)),
            ((2027, 4, 1), Some((2027, 4, 2))),
            (Some("JG103827C"), address_of("JG103827C")),
        ),
        vehicle(
            "AK68 TWN",
            ("VAUXHALL", "ASTRA", "RED", Petrol, 2018, Some(117)),
            ((2027, 9, 1), Some((2027, 9, 20))),
            (Some("TW580173B"), address_of("TW580173B")),
        ),
        vehicle(
            "MX72 PLD",
            ("KIA", "SPORTAGE", "GREY", Petrol, 2022, Some(149)),
            ((2026, 12, 1), Some((2027, 9, 1))),
            (Some("YH472985A"), address_of("YH472985A")),
        ),
        vehicle(
            "YR67 BNK",
            (
                "MERCEDES-BENZ",
                "SPRINTER",
                "WHITE",
                Diesel,
                2017,
                Some(201),
            ),
            ((2027, 2, 1), Some((2027, 11, 8))),
            (None, fleet_address),
        ),
    ];
    DvlaRecords {
        licences,
        vehicles: vehicles
            .into_iter()
            .map(|v| (v.registration.clone(), v))
            .collect(),
        journal: NotificationJournal::new("DVLA"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifiers::{check_licence_holder, parse_vehicle_registration};
    use crate::population::citizen;

    #[test]
    fn every_driver_number_is_derived_from_its_holder() {
        let records = records();
        assert_eq!(records.licences.len(), 8);
        for licence in records.licences.values() {
            let holder = citizen(licence.nino.as_deref().unwrap()).unwrap();
            assert_eq!(
                check_licence_holder(
                    &licence.licence_number,
                    holder.family_name,
                    holder.given_names,
                    holder.date_of_birth,
                    holder.sex
                ),
                Ok(()),
                "{}",
                licence.licence_number
            );
        }
    }

    #[test]
    fn every_registration_is_in_the_current_format() {
        for v in records().vehicles.values() {
            assert_eq!(
                parse_vehicle_registration(&v.registration).as_deref(),
                Ok(v.registration.as_str())
            );
            assert!(!v.keeper_address.postcode.is_empty());
        }
    }
}
