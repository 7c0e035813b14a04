//! What the local councils hold about their residents, seeded from the shared population, and
//! which council serves a postcode.

use crate::notification_journal::NotificationJournal;
use crate::population::{citizens, seed_date};
use crate::shared_types::Address;
use async_graphql::Enum;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// The councils this subgraph speaks for, by postcode area (the letters that start the
/// outward code). A real deployment runs one subgraph per council or a shared one like this.
const COUNCILS: [(&str, &str); 8] = [
    ("HG", "North Yorkshire Council"),
    ("LS", "Leeds City Council"),
    ("B", "Birmingham City Council"),
    ("CF", "Cardiff Council"),
    ("M", "Manchester City Council"),
    ("EH", "City of Edinburgh Council"),
    ("NR", "Norwich City Council"),
    ("L", "Liverpool City Council"),
];

/// The council serving `postcode` (canonical form), if it is one of [`COUNCILS`].
pub fn council_for(postcode: &str) -> Option<&'static str> {
    let area: String = postcode
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    COUNCILS
        .iter()
        .find(|(prefix, _)| *prefix == area)
        .map(|(_, council)| *council)
}

/// Council Tax valuation band (England and Scotland A–H; Wales adds I).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum CouncilTaxBand {
    A,
    B,
    C,
    D,
    E,
    F,
    G,
    H,
    I,
}

/// Whether anyone pays Council Tax on the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum CouncilTaxAccountStatus {
    /// The account holder is liable.
    Liable,
    /// The account holder moved out; the account was closed on the move.
    ClosedMovedOut,
    /// The sole occupant died: exempt while the estate is settled (Class F).
    ExemptDeceasedEstate,
    /// The account holder died; the liability passes to the other occupants.
    ClosedDeceased,
}

/// One Council Tax account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouncilTaxRecord {
    pub account_number: String,
    pub council: &'static str,
    pub address: Address,
    /// `None` until the address is matched to the valuation list.
    pub band: Option<CouncilTaxBand>,
    /// Adults living at the address, the account holder included.
    pub occupants: u8,
    pub status: CouncilTaxAccountStatus,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
}

impl CouncilTaxRecord {
    /// The 25 % discount for one adult living alone.
    pub fn single_person_discount(&self) -> bool {
        self.occupants == 1
    }
}

/// Whether a person is on a council's electoral register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ElectoralRegistrationStatus {
    Registered,
    RemovedDeceased,
    RemovedMovedOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectoralRecord {
    pub council: &'static str,
    pub status: ElectoralRegistrationStatus,
    pub registered_on: NaiveDate,
    pub removed_on: Option<NaiveDate>,
}

/// Whether a Blue Badge (disabled parking) may be displayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum BlueBadgeStatus {
    Valid,
    Expired,
    CancelledHolderDeceased,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlueBadgeRecord {
    pub badge_number: String,
    pub council: &'static str,
    pub expires_on: NaiveDate,
    pub cancelled: bool,
}

impl BlueBadgeRecord {
    pub fn status(&self, today: NaiveDate) -> BlueBadgeStatus {
        if self.cancelled {
            BlueBadgeStatus::CancelledHolderDeceased
        } else if self.expires_on < today {
            BlueBadgeStatus::Expired
        } else {
            BlueBadgeStatus::Valid
        }
    }
}

/// Whether Housing Benefit is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum HousingBenefitStatus {
    InPayment,
    EndedDeceased,
    EndedMovedOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HousingBenefitRecord {
    pub claim_reference: String,
    pub council: &'static str,
    pub weekly_amount_pence: i32,
    pub dependent_children: u8,
    pub status: HousingBenefitStatus,
    pub ended_on: Option<NaiveDate>,
}

/// A child registered to a resident, for early years and school admissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildRecord {
    pub given_names: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
}

/// Everything the councils hold about one resident (by NINO).
#[derive(Debug, Clone, Default)]
pub struct Resident {
    /// Every account, oldest first; at most one is `Liable`.
    pub council_tax: Vec<CouncilTaxRecord>,
    pub electoral: Option<ElectoralRecord>,
    pub blue_badge: Option<BlueBadgeRecord>,
    pub housing_benefit: Option<HousingBenefitRecord>,
    pub children: Vec<ChildRecord>,
}

impl Resident {
    /// The account the resident pays now, if any.
    pub fn liable_account(&mut self) -> Option<&mut CouncilTaxRecord> {
        self.council_tax
            .iter_mut()
            .find(|a| a.status == CouncilTaxAccountStatus::Liable)
    }
}

/// Everything the councils hold, behind one lock.
#[derive(Debug)]
pub struct CouncilRecords {
    pub residents: BTreeMap<String, Resident>,
    pub account_numbers: AccountNumbers,
    pub journal: NotificationJournal,
}

/// Issues Council Tax account numbers, each once.
#[derive(Debug)]
pub struct AccountNumbers {
    last: u32,
}

impl AccountNumbers {
    /// A new account number (nine digits).
    pub fn issue(&mut self) -> String {
        self.last += 1;
        format!("{:09}", self.last)
    }
}

/// (band, adults at the address, on the register, Blue Badge expiry, Housing Benefit weekly
/// pence and children) for each seeded NINO.
type SeedResident = (
    CouncilTaxBand,
    u8,
    bool,
    Option<NaiveDate>,
    Option<(i32, u8)>,
);

fn seed_resident(nino: &str) -> SeedResident {
    use CouncilTaxBand::*;
    match nino {
        "JK528194C" => (C, 1, true, Some(seed_date(2027, 5, 31)), Some((4_215, 0))),
        "SP347102A" => (B, 2, true, None, None),
        "NE712348B" => (A, 1, true, None, Some((8_960, 1))),
        "WM195627D" => (E, 2, true, Some(seed_date(2026, 3, 31)), None),
        "PC834016A" => (A, 3, false, None, None),
        "JG103827C" => (F, 2, true, None, None),
        "TW580173B" => (D, 2, true, None, None),
        _ => (C, 1, true, None, None),
    }
}

pub fn seed() -> CouncilRecords {
    let mut records = CouncilRecords {
        residents: BTreeMap::new(),
        account_numbers: AccountNumbers { last: 400_100_000 },
        journal: NotificationJournal::new("LC"),
    };
    for (index, c) in citizens().into_iter().enumerate() {
        let Some(council) = council_for(&c.address.postcode) else {
            continue;
        };
        let (band, occupants, registered, badge_expiry, housing_benefit) = seed_resident(c.nino);
        let opened_on = seed_date(2015 + i32::try_from(index % 8).unwrap_or(0), 4, 1);
        let account_number = records.account_numbers.issue();
        let resident = Resident {
            council_tax: vec![CouncilTaxRecord {
                account_number,
                council,
                address: c.address.clone(),
                band: Some(band),
                occupants,
                status: CouncilTaxAccountStatus::Liable,
                opened_on,
                closed_on: None,
            }],
            electoral: registered.then_some(ElectoralRecord {
                council,
                status: ElectoralRegistrationStatus::Registered,
                registered_on: opened_on,
                removed_on: None,
            }),
            blue_badge: badge_expiry.map(|expires_on| BlueBadgeRecord {
                badge_number: format!("BB{:07}", 3_100_000 + index),
                council,
                expires_on,
                cancelled: false,
            }),
            housing_benefit: housing_benefit.map(|(weekly_amount_pence, children)| {
                HousingBenefitRecord {
                    claim_reference: format!("HB{:06}", 710_000 + index),
                    council,
                    weekly_amount_pence,
                    dependent_children: children,
                    status: HousingBenefitStatus::InPayment,
                    ended_on: None,
                }
            }),
            children: Vec::new(),
        };
        records.residents.insert(c.nino.to_string(), resident);
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seeded_citizen_lives_in_a_council_served_here() {
        let records = seed();
        assert_eq!(records.residents.len(), citizens().len());
        let mut numbers: Vec<_> = records
            .residents
            .values()
            .flat_map(|r| r.council_tax.iter().map(|a| a.account_number.clone()))
            .collect();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), records.residents.len());
    }

    #[test]
    fn a_postcode_belongs_to_the_council_of_its_area_only() {
        assert_eq!(council_for("LS2 9NZ"), Some("Leeds City Council"));
        assert_eq!(council_for("L15 0EG"), Some("Liverpool City Council"));
        assert_eq!(council_for("LL57 2DG"), None);
        assert_eq!(council_for("SW1A 2AA"), None);
    }
}
