//! The fictional businesses every department's seed data describes, so that one company
//! number, VAT number and EORI name the same business in Companies House, HMRC and Border Force.

use crate::population::seed_date;
use crate::shared_types::Address;
use chrono::NaiveDate;

/// One seeded business, as the registers know it.
#[derive(Debug, Clone)]
pub struct Business {
    pub company_number: &'static str,
    pub name: &'static str,
    pub incorporated_on: NaiveDate,
    pub registered_office: Address,
    /// VAT registration number and the date it took effect.
    pub vat: Option<(&'static str, NaiveDate)>,
    /// Corporation tax UTR and the date of registration (LLPs are not liable).
    pub corporation_tax_utr: Option<(&'static str, NaiveDate)>,
    pub eori: Option<&'static str>,
}

/// The seeded businesses.
pub fn businesses() -> Vec<Business> {
    vec![
        Business {
            company_number: "13984526",
            name: "OKAFOR DIGITAL LTD",
            incorporated_on: seed_date(2022, 3, 8),
            registered_office: Address::new("Suite 4", Some("10 Park Row"), "Leeds", "LS1 5HD"),
            vat: Some(("GB287461957", seed_date(2022, 6, 1))),
            corporation_tax_utr: Some(("7491726350", seed_date(2022, 3, 29))),
            eori: None,
        },
        Business {
            company_number: "07451329",
            name: "NORTHERN HARVEST FOODS LIMITED",
            incorporated_on: seed_date(2010, 11, 29),
            registered_office: Address::new(
                "Unit 7",
                Some("Humber Enterprise Park"),
                "Hull",
                "HU9 1AA",
            ),
            vat: Some(("GB351608216", seed_date(2011, 1, 1))),
            corporation_tax_utr: Some(("4815302947", seed_date(2010, 12, 20))),
            eori: Some("GB351608216000"),
        },
        Business {
            company_number: "SC512847",
            name: "MACDONALD JOINERY LTD",
            incorporated_on: seed_date(2015, 8, 17),
            registered_office: Address::new(
                "Unit 3",
                Some("45 Bankhead Drive"),
                "Edinburgh",
                "EH11 4EQ",
            ),
            vat: Some(("GB224571813", seed_date(2016, 2, 1))),
            corporation_tax_utr: Some(("1603918472", seed_date(2015, 9, 7))),
            eori: None,
        },
        Business {
            company_number: "OC398214",
            name: "BRIGHTWATER ENERGY LLP",
            incorporated_on: seed_date(2015, 4, 1),
            registered_office: Address::new(
                "Fifth Floor",
                Some("20 Worship Street"),
                "London",
                "EC2A 2DX",
            ),
            vat: Some(("GB198336464", seed_date(2015, 7, 1))),
            corporation_tax_utr: None,
            eori: None,
        },
        Business {
            company_number: "NI634218",
            name: "CAUSEWAY TEXTILES LIMITED",
            incorporated_on: seed_date(2015, 10, 5),
            registered_office: Address::new(
                "Unit 12",
                Some("Duncrue Industrial Estate"),
                "Belfast",
                "BT3 9BP",
            ),
            vat: Some(("GB304287518", seed_date(2016, 1, 1))),
            corporation_tax_utr: Some(("7147258369", seed_date(2015, 10, 26))),
            eori: Some("XI304287518000"),
        },
        Business {
            company_number: "04128839",
            name: "ATLANTIC MACHINE TOOLS LIMITED",
            incorporated_on: seed_date(2000, 12, 19),
            registered_office: Address::new("2 Far Gosford Street", None, "Coventry", "CV1 5DZ"),
            vat: None,
            corporation_tax_utr: Some(("9369147258", seed_date(2001, 1, 15))),
            eori: None,
        },
        Business {
            company_number: "11029384",
            name: "KESTREL FREIGHT IMPORTS LIMITED",
            incorporated_on: seed_date(2017, 10, 31),
            registered_office: Address::new(
                "Kestrel House",
                Some("3 Carr Road"),
                "Felixstowe",
                "IP11 3EA",
            ),
            vat: Some(("GB266719370", seed_date(2018, 1, 1))),
            corporation_tax_utr: Some(("2258369147", seed_date(2017, 11, 20))),
            eori: Some("GB266719370000"),
        },
    ]
}

/// The business with this (canonical) company number, if seeded.
pub fn business(company_number: &str) -> Option<Business> {
    businesses()
        .into_iter()
        .find(|b| b.company_number == company_number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifiers::{
        parse_company_number, parse_eori, parse_postcode, parse_utr, parse_vat_number,
    };

    #[test]
    fn every_seeded_identifier_is_valid_and_canonical() {
        for b in businesses() {
            assert_eq!(
                parse_company_number(b.company_number).as_deref(),
                Ok(b.company_number)
            );
            assert_eq!(
                parse_postcode(&b.registered_office.postcode).as_deref(),
                Ok(b.registered_office.postcode.as_str())
            );
            if let Some((vat, _)) = b.vat {
                assert_eq!(parse_vat_number(vat).as_deref(), Ok(vat), "{}", b.name);
            }
            if let Some((utr, _)) = b.corporation_tax_utr {
                assert_eq!(parse_utr(utr).as_deref(), Ok(utr), "{}", b.name);
            }
            if let Some(eori) = b.eori {
                assert_eq!(parse_eori(eori).as_deref(), Ok(eori));
                // A VAT-registered trader's EORI is its VAT number followed by 000.
                let (vat, _) = b.vat.unwrap();
                assert_eq!(&eori[2..11], &vat[2..]);
            }
            assert!(b.incorporated_on > NaiveDate::MIN);
        }
    }
}
