//! Companies House's seed register, built from the shared business register.

use super::records::{
    CompaniesHouseRecords, CompanyRecord, CompanyStatus, CompanyType, Filing, FilingCategory,
    Officer, OfficerRole,
};
use crate::businesses::businesses;
use crate::notification_journal::NotificationJournal;
use crate::population::seed_date;
use crate::shared_types::Date;

fn officer(
    name: &str,
    role: OfficerRole,
    appointed: (i32, u32, u32),
    resigned: Option<(i32, u32, u32)>,
    occupation: Option<&str>,
    country_of_residence: &str,
) -> Officer {
    Officer {
        name: name.to_string(),
        role,
        appointed_on: Date(seed_date(appointed.0, appointed.1, appointed.2)),
        resigned_on: resigned.map(|(y, m, d)| Date(seed_date(y, m, d))),
        nationality: "British".to_string(),
        country_of_residence: country_of_residence.to_string(),
        occupation: occupation.map(str::to_string),
    }
}

fn filing(
    on: (i32, u32, u32),
    category: FilingCategory,
    form_type: &str,
    description: &str,
) -> Filing {
    Filing {
        date: Date(seed_date(on.0, on.1, on.2)),
        category,
        form_type: form_type.to_string(),
        description: description.to_string(),
    }
}

/// Type, status, SIC codes, officers and filings of each seeded company.
struct RegisterDetails {
    company_type: CompanyType,
    dissolved_on: Option<(i32, u32, u32)>,
    sic_codes: &'static [&'static str],
    officers: Vec<Officer>,
    filings: Vec<Filing>,
}

fn details(company_number: &str) -> RegisterDetails {
    use FilingCategory::*;
    use OfficerRole::*;
    let private = CompanyType::PrivateLimitedCompany;
    match company_number {
        "13984526" => RegisterDetails {
            company_type: private,
            dissolved_on: None,
            sic_codes: &["62012", "62020"],
            officers: vec![officer("OKAFOR, David John", Director, (2022, 3, 8), None, Some("Software Engineer"), "England")],
            filings: vec![
                filing((2022, 3, 8), Incorporation, "IN01", "Incorporation"),
                filing((2023, 3, 20), ConfirmationStatement, "CS01", "Confirmation statement made on 7 March 2023 with no updates"),
                filing((2023, 11, 28), Accounts, "AA", "Micro company accounts made up to 31 March 2023"),
                filing((2024, 3, 19), ConfirmationStatement, "CS01", "Confirmation statement made on 7 March 2024 with no updates"),
                filing((2024, 12, 2), Accounts, "AA", "Micro company accounts made up to 31 March 2024"),
                filing((2025, 3, 18), ConfirmationStatement, "CS01", "Confirmation statement made on 7 March 2025 with no updates"),
            ],
        },
        "07451329" => RegisterDetails {
            company_type: private,
            dissolved_on: None,
            sic_codes: &["46390", "46310"],
            officers: vec![
                officer("PEMBERTON, Sarah Louise", Director, (2010, 11, 29), None, Some("Managing Director"), "England"),
                officer("WARD, Helen", Secretary, (2010, 11, 29), Some((2018, 4, 30)), None, "England"),
                officer("ATKINSON, Michael John", Director, (2014, 6, 2), None, Some("Finance Director"), "England"),
            ],
            filings: vec![
                filing((2010, 11, 29), Incorporation, "IN01", "Incorporation"),
                filing((2014, 6, 10), Officers, "AP01", "Appointment of Mr Michael John Atkinson as a director"),
                filing((2018, 5, 3), Officers, "TM02", "Termination of appointment of Helen Ward as a secretary"),
                filing((2024, 12, 12), ConfirmationStatement, "CS01", "Confirmation statement made on 29 November 2024 with updates"),
                filing((2025, 8, 21), Accounts, "AA", "Full accounts made up to 30 November 2024"),
            ],
        },
        "SC512847" => RegisterDetails {
            company_type: private,
            dissolved_on: None,
            sic_codes: &["43320"],
            officers: vec![officer("MACDONALD, Robert James", Director, (2015, 8, 17), None, Some("Joiner"), "Scotland")],
            filings: vec![
                filing((2015, 8, 17), Incorporation, "IN01", "Incorporation"),
                filing((2021, 2, 9), Address, "AD01", "Registered office address changed to Unit 3, 45 Bankhead Drive, Edinburgh EH11 4EQ"),
                filing((2025, 4, 30), Accounts, "AA", "Total exemption full accounts made up to 31 August 2024"),
                filing((2025, 8, 26), ConfirmationStatement, "CS01", "Confirmation statement made on 16 August 2025 with no updates"),
            ],
        },
        "OC398214" => RegisterDetails {
            company_type: CompanyType::LimitedLiabilityPartnership,
            dissolved_on: None,
            sic_codes: &["35110", "71129"],
            officers: vec![
                officer("ADEYEMI, Oluwaseun", LlpDesignatedMember, (2015, 4, 1), None, None, "England"),
                officer("CAMPBELL, Fiona Jane", LlpDesignatedMember, (2015, 4, 1), None, None, "England"),
            ],
            filings: vec![
                filing((2015, 4, 1), Incorporation, "LLIN01", "Incorporation of a limited liability partnership"),
                filing((2025, 4, 9), ConfirmationStatement, "LLCS01", "Confirmation statement made on 31 March 2025 with no updates"),
                filing((2025, 12, 15), Accounts, "LLAA", "Full accounts made up to 31 March 2025"),
            ],
        },
        "NI634218" => RegisterDetails {
            company_type: private,
            dissolved_on: None,
            sic_codes: &["13100", "46410"],
            officers: vec![officer("GALLAGHER, Siobhan Mary", Director, (2015, 10, 5), None, Some("Textile Merchant"), "Northern Ireland")],
            filings: vec![
                filing((2015, 10, 5), Incorporation, "IN01(NI)", "Incorporation"),
                filing((2025, 6, 30), Accounts, "AA", "Total exemption full accounts made up to 31 October 2024"),
                filing((2025, 10, 14), ConfirmationStatement, "CS01", "Confirmation statement made on 4 October 2025 with no updates"),
            ],
        },
        "04128839" => RegisterDetails {
            company_type: private,
            dissolved_on: Some((2019, 7, 2)),
            sic_codes: &["28410"],
            officers: vec![officer("HARGREAVES, Peter Alan", Director, (2000, 12, 19), Some((2019, 7, 2)), Some("Engineer"), "England")],
            filings: vec![
                filing((2000, 12, 19), Incorporation, "NEWINC", "Incorporation"),
                filing((2019, 4, 9), Dissolution, "DS01", "Application to strike the company off the register"),
                filing((2019, 7, 2), Dissolution, "GAZ2(A)", "Final Gazette dissolved via voluntary strike-off"),
            ],
        },
        "11029384" => RegisterDetails {
            company_type: private,
            dissolved_on: None,
            sic_codes: &["52290", "46420"],
            officers: vec![
                officer("NAIR, Rajesh Kumar", Director, (2017, 10, 31), None, Some("Freight Forwarder"), "England"),
                officer("BAILEY, Joanne", Director, (2020, 2, 3), None, Some("Customs Broker"), "England"),
            ],
            filings: vec![
                filing((2017, 10, 31), Incorporation, "IN01", "Incorporation"),
                filing((2020, 2, 11), Officers, "AP01", "Appointment of Ms Joanne Bailey as a director"),
                filing((2025, 7, 29), Accounts, "AA", "Total exemption full accounts made up to 31 October 2024"),
                filing((2025, 11, 10), ConfirmationStatement, "CS01", "Confirmation statement made on 30 October 2025 with no updates"),
            ],
        },
        _ => RegisterDetails {
            company_type: private,
            dissolved_on: None,
            sic_codes: &[],
            officers: Vec::new(),
            filings: Vec::new(),
        },
    }
}

pub(super) fn records() -> CompaniesHouseRecords {
    let companies = businesses()
        .into_iter()
        .map(|b| {
            let d = details(b.company_number);
            let record = CompanyRecord {
                company_number: b.company_number.to_string(),
                company_name: b.name.to_string(),
                company_status: if d.dissolved_on.is_some() {
                    CompanyStatus::Dissolved
                } else {
                    CompanyStatus::Active
                },
                company_type: d.company_type,
                incorporated_on: b.incorporated_on,
                dissolved_on: d.dissolved_on.map(|(y, m, day)| seed_date(y, m, day)),
                registered_office: b.registered_office,
                sic_codes: d.sic_codes.iter().map(|s| s.to_string()).collect(),
                officers: d.officers,
                filings: d.filings,
            };
            (record.company_number.clone(), record)
        })
        .collect();
    CompaniesHouseRecords {
        companies,
        journal: NotificationJournal::new("CH"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_company_has_an_incorporation_filing_on_its_incorporation_date() {
        for c in records().companies.values() {
            let first = c.filings.iter().min_by_key(|f| f.date).expect("filings");
            assert_eq!(
                first.category,
                FilingCategory::Incorporation,
                "{}",
                c.company_number
            );
            assert_eq!(first.date.0, c.incorporated_on, "{}", c.company_number);
            assert!(!c.officers.is_empty());
            assert!(c.sic_codes.iter().all(|s| s.len() == 5));
        }
    }
}
