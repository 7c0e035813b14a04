//! DWP's seed claims, for people in the shared population (2025-26 benefit rates).

use super::records::{
    Benefit, ClaimRecord, ClaimStatus, ClaimantRecord, DwpRecords, PaymentFrequency,
};
use crate::notification_journal::NotificationJournal;
use crate::population::{citizens, seed_date};

fn claim(
    claim_id: &str,
    nino: &str,
    benefit: Benefit,
    started: (i32, u32, u32),
    ended: Option<(i32, u32, u32)>,
    amount_pence: i32,
    payment_frequency: PaymentFrequency,
) -> ClaimRecord {
    ClaimRecord {
        claim_id: claim_id.to_string(),
        nino: nino.to_string(),
        benefit,
        status: if ended.is_some() {
            ClaimStatus::Ended
        } else {
            ClaimStatus::InPayment
        },
        started_on: seed_date(started.0, started.1, started.2),
        ended_on: ended.map(|(y, m, d)| seed_date(y, m, d)),
        amount_pence,
        payment_frequency,
    }
}

pub(super) fn records() -> DwpRecords {
    use Benefit::*;
    use PaymentFrequency::*;
    let claims = vec![
        claim(
            "SP2301874",
            "JK528194C",
            StatePension,
            (2023, 3, 14),
            None,
            23_025,
            FourWeekly,
        ),
        claim(
            "UC4471093",
            "NE712348B",
            UniversalCredit,
            (2024, 9, 2),
            None,
            40_014,
            Monthly,
        ),
        claim(
            "SP1309452",
            "WM195627D",
            StatePension,
            (2013, 9, 30),
            None,
            17_645,
            FourWeekly,
        ),
        claim(
            "AA2105107",
            "WM195627D",
            AttendanceAllowance,
            (2021, 5, 10),
            None,
            7_390,
            FourWeekly,
        ),
        claim(
            "CA1901146",
            "TW580173B",
            CarersAllowance,
            (2019, 1, 14),
            None,
            8_330,
            Weekly,
        ),
        claim(
            "ES2208011",
            "YH472985A",
            EmploymentAndSupportAllowance,
            (2022, 8, 1),
            None,
            9_205,
            FourWeekly,
        ),
        claim(
            "PI2211019",
            "YH472985A",
            PersonalIndependencePayment,
            (2022, 11, 1),
            None,
            7_390,
            FourWeekly,
        ),
        claim(
            "JS0904218",
            "SP347102A",
            JobseekersAllowance,
            (2009, 4, 20),
            Some((2009, 11, 2)),
            5_095,
            Weekly,
        ),
    ];
    let claimants = citizens()
        .into_iter()
        .filter(|c| claims.iter().any(|claim| claim.nino == c.nino))
        .map(|c| {
            let record = ClaimantRecord {
                nino: c.nino.to_string(),
                name: c.full_name(),
                address: c.address.clone(),
                date_of_death: None,
                partner: None,
            };
            (record.nino.clone(), record)
        })
        .collect();
    DwpRecords {
        claimants,
        claims,
        journal: NotificationJournal::new("DWP"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_claim_belongs_to_a_claimant_and_ids_are_unique() {
        let records = records();
        let mut ids: Vec<_> = records.claims.iter().map(|c| c.claim_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), records.claims.len());
        for claim in &records.claims {
            assert!(
                records.claimants.contains_key(&claim.nino),
                "{}",
                claim.claim_id
            );
            assert!(claim.ended_on.is_none_or(|end| end > claim.started_on));
        }
    }
}
