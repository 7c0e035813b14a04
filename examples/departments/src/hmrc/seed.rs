//! HMRC's seed records, built from the shared population and business register.

use super::records::{
    AddressPeriod, CompanyTaxRecord, CorporationTaxRegistration, HmrcRecords, ReturnStatus,
    SelfAssessmentReturn, TaxpayerRecord, TraderRecord, VatRegistration,
};
use crate::businesses::businesses;
use crate::notification_journal::NotificationJournal;
use crate::population::{citizens, seed_date};
use crate::shared_types::{Address, Date};
use std::collections::BTreeMap;

fn filed(
    tax_year: &str,
    on: (i32, u32, u32),
    income: i32,
    tax: i32,
    status: ReturnStatus,
) -> SelfAssessmentReturn {
    SelfAssessmentReturn {
        tax_year: tax_year.to_string(),
        status,
        filed_on: Some(Date(seed_date(on.0, on.1, on.2))),
        total_income_pence: Some(income),
        tax_due_pence: Some(tax),
    }
}

fn outstanding(tax_year: &str) -> SelfAssessmentReturn {
    SelfAssessmentReturn {
        tax_year: tax_year.to_string(),
        status: ReturnStatus::Outstanding,
        filed_on: None,
        total_income_pence: None,
        tax_due_pence: None,
    }
}

/// Returns filed by each self-assessment taxpayer, by NINO.
fn returns_for(nino: &str) -> Vec<SelfAssessmentReturn> {
    use ReturnStatus::{Processed, Received};
    match nino {
        "JK528194C" => vec![
            filed("2023-24", (2025, 1, 20), 2_612_000, 266_400, Processed),
            filed("2024-25", (2025, 11, 3), 2_745_500, 292_700, Received),
        ],
        "SP347102A" => vec![
            filed("2023-24", (2024, 12, 2), 6_870_000, 1_402_300, Processed),
            filed("2024-25", (2025, 10, 14), 7_215_000, 1_540_300, Received),
        ],
        "WM195627D" => vec![
            filed("2023-24", (2024, 9, 18), 3_104_000, 364_800, Processed),
            outstanding("2024-25"),
        ],
        "JG103827C" => vec![
            filed("2023-24", (2025, 1, 29), 4_388_000, 735_100, Processed),
            outstanding("2024-25"),
        ],
        "YH472985A" => vec![filed(
            "2022-23",
            (2023, 12, 11),
            1_520_000,
            70_400,
            Processed,
        )],
        _ => Vec::new(),
    }
}

/// Earlier addresses, oldest first, for people who have moved.
fn earlier_addresses(nino: &str) -> Vec<AddressPeriod> {
    match nino {
        "SP347102A" => vec![AddressPeriod {
            address: Address::new("22 Kirkstall Lane", None, "Leeds", "LS5 3BE"),
            from: Date(seed_date(2015, 9, 1)),
            until: Some(Date(seed_date(2021, 6, 30))),
        }],
        "PC834016A" => vec![AddressPeriod {
            address: Address::new("9 Cavendish Street", None, "Oldham", "OL8 1AB"),
            from: Date(seed_date(2001, 2, 17)),
            until: Some(Date(seed_date(2019, 9, 14))),
        }],
        _ => Vec::new(),
    }
}

/// When each person moved to their current address.
fn moved_in(nino: &str) -> Date {
    Date(match nino {
        "SP347102A" => seed_date(2021, 7, 1),
        "PC834016A" => seed_date(2019, 9, 15),
        "JK528194C" => seed_date(1998, 5, 22),
        "WM195627D" => seed_date(1979, 8, 3),
        "JG103827C" => seed_date(2004, 3, 12),
        "TW580173B" => seed_date(2011, 10, 28),
        "YH472985A" => seed_date(1995, 6, 16),
        _ => seed_date(2018, 1, 1),
    })
}

pub(super) fn records() -> HmrcRecords {
    let taxpayers = citizens()
        .into_iter()
        .map(|c| {
            let record = TaxpayerRecord {
                nino: c.nino.to_string(),
                given_names: c.given_names.to_string(),
                family_name: c.family_name.to_string(),
                date_of_birth: c.date_of_birth,
                utr: c.utr.map(str::to_string),
                date_of_death: None,
                current_address: AddressPeriod {
                    address: c.address.clone(),
                    from: moved_in(c.nino),
                    until: None,
                },
                previous_addresses: earlier_addresses(c.nino),
                returns: returns_for(c.nino),
                correspondence: super::CorrespondencePreference::Paper,
                child_benefit: Vec::new(),
                partner: None,
            };
            (record.nino.clone(), record)
        })
        .collect();

    let mut companies = BTreeMap::new();
    let mut traders = BTreeMap::new();
    for b in businesses() {
        companies.insert(
            b.company_number.to_string(),
            CompanyTaxRecord {
                vat: b.vat.map(|(vat_number, from)| VatRegistration {
                    vat_number: vat_number.to_string(),
                    trading_name: b.name.to_string(),
                    effective_from: Date(from),
                }),
                corporation_tax: b.corporation_tax_utr.map(|(utr, registered_on)| {
                    CorporationTaxRegistration {
                        utr: utr.to_string(),
                        registered_on: Date(registered_on),
                        first_accounting_period_starts_on: Date(b.incorporated_on),
                    }
                }),
                ceased_on: None,
            },
        );
        if let Some(eori) = b.eori {
            traders.insert(
                eori.to_string(),
                TraderRecord {
                    eori: eori.to_string(),
                    name: b.name.to_string(),
                    address: b.registered_office.clone(),
                    vat_number: b.vat.map(|(vat, _)| vat.to_string()),
                    company_number: Some(b.company_number.to_string()),
                },
            );
        }
    }

    HmrcRecords {
        taxpayers,
        companies,
        traders,
        journal: NotificationJournal::new("HMRC"),
        next_utr_serial: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifiers::parse_postcode;

    #[test]
    fn address_histories_are_valid_and_contiguous() {
        let records = records();
        for t in records.taxpayers.values() {
            let mut periods = t.previous_addresses.clone();
            periods.push(t.current_address.clone());
            for period in &periods {
                assert_eq!(
                    parse_postcode(&period.address.postcode).as_deref(),
                    Ok(period.address.postcode.as_str())
                );
            }
            for pair in periods.windows(2) {
                let until = pair[0].until.expect("earlier periods are closed");
                assert_eq!(until.0.succ_opt(), Some(pair[1].from.0), "{}", t.nino);
            }
            assert!(t.current_address.until.is_none());
            assert_eq!(t.returns.is_empty(), t.utr.is_none(), "{}", t.nino);
        }
    }
}
