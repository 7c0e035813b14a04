//! The fictional people every department's seed data describes, so that one NINO names
//! the same person (name, date of birth, address) in HMRC, DWP, DVLA and HM Passport Office.

use crate::identifiers::LicenceSex;
use crate::shared_types::Address;
use chrono::NaiveDate;

/// One member of the seeded population, as the civil registers know them.
#[derive(Debug, Clone)]
pub struct Citizen {
    pub nino: &'static str,
    pub given_names: &'static str,
    pub family_name: &'static str,
    pub date_of_birth: NaiveDate,
    pub sex: LicenceSex,
    pub address: Address,
    /// Self-assessment UTR, for those who file a tax return.
    pub utr: Option<&'static str>,
}

impl Citizen {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_names, self.family_name)
    }
}

/// A date in seed data. Seed dates are constants checked by the seed tests.
pub(crate) fn seed_date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// The seeded population.
pub fn citizens() -> Vec<Citizen> {
    use LicenceSex::{Female, Male};
    vec![
        Citizen {
            nino: "JK528194C",
            given_names: "Margaret Elizabeth",
            family_name: "Thompson",
            date_of_birth: seed_date(1957, 3, 14),
            sex: Female,
            address: Address::new("14 Rosebery Avenue", None, "Harrogate", "HG2 0HG"),
            utr: Some("9384751092"),
        },
        Citizen {
            nino: "SP347102A",
            given_names: "David John",
            family_name: "Okafor",
            date_of_birth: seed_date(1984, 7, 22),
            sex: Male,
            address: Address::new("Flat 3", Some("27 Clarendon Road"), "Leeds", "LS2 9NZ"),
            utr: Some("1918273645"),
        },
        Citizen {
            nino: "NE712348B",
            given_names: "Priya",
            family_name: "Sharma",
            date_of_birth: seed_date(1991, 11, 5),
            sex: Female,
            address: Address::new("88 Hagley Road", Some("Edgbaston"), "Birmingham", "B16 8LU"),
            utr: None,
        },
        Citizen {
            nino: "WM195627D",
            given_names: "Gareth Rhys",
            family_name: "Williams",
            date_of_birth: seed_date(1948, 9, 30),
            sex: Male,
            address: Address::new("5 Heol y Coed", Some("Rhiwbina"), "Cardiff", "CF14 6HF"),
            utr: Some("4572019384"),
        },
        Citizen {
            nino: "PC834016A",
            given_names: "Aisha",
            family_name: "Khan",
            date_of_birth: seed_date(2001, 2, 17),
            sex: Female,
            address: Address::new(
                "41 Wilmslow Road",
                Some("Rusholme"),
                "Manchester",
                "M14 5TB",
            ),
            utr: None,
        },
        Citizen {
            nino: "JG103827C",
            given_names: "Robert James",
            family_name: "MacDonald",
            date_of_birth: seed_date(1969, 12, 1),
            sex: Male,
            address: Address::new("12 Marchmont Crescent", None, "Edinburgh", "EH9 1HN"),
            utr: Some("3730495816"),
        },
        Citizen {
            nino: "TW580173B",
            given_names: "Eleanor Grace",
            family_name: "Hughes",
            date_of_birth: seed_date(1976, 6, 9),
            sex: Female,
            address: Address::new("3 Church Lane", Some("Eaton"), "Norwich", "NR4 6NW"),
            utr: None,
        },
        Citizen {
            nino: "YH472985A",
            given_names: "Thomas Patrick",
            family_name: "O'Brien",
            date_of_birth: seed_date(1963, 4, 18),
            sex: Male,
            address: Address::new(
                "47 Lawrence Road",
                Some("Wavertree"),
                "Liverpool",
                "L15 0EG",
            ),
            utr: Some("3264813507"),
        },
    ]
}

/// The citizen with this (canonical) NINO, if seeded.
pub fn citizen(nino: &str) -> Option<Citizen> {
    citizens().into_iter().find(|c| c.nino == nino)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifiers::{parse_nino, parse_postcode, parse_utr};

    #[test]
    fn every_seeded_identifier_is_valid_and_canonical() {
        let people = citizens();
        assert_eq!(people.len(), 8);
        for c in &people {
            assert_eq!(parse_nino(c.nino).as_deref(), Ok(c.nino));
            assert_eq!(
                parse_postcode(&c.address.postcode).as_deref(),
                Ok(c.address.postcode.as_str())
            );
            if let Some(utr) = c.utr {
                assert_eq!(parse_utr(utr).as_deref(), Ok(utr), "{}", c.full_name());
            }
            assert!(c.date_of_birth > NaiveDate::MIN);
        }
        let mut ninos: Vec<_> = people.iter().map(|c| c.nino).collect();
        ninos.sort_unstable();
        ninos.dedup();
        assert_eq!(ninos.len(), people.len());
    }
}
