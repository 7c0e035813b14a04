//! Traders (by EORI) with a poor compliance history, seeded. Agencies check more of their
//! consignments. The Border Force department's seeded seizure (counterfeit trainers at
//! Southampton) is the first entry's, so both subgraphs tell the same story.

use super::consignment::Consignment;

/// What a trader's history is poor in, and so which agencies look harder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concern {
    /// Goods seized at the border (Border Force).
    Seizures,
    /// Sanitary and phytosanitary non-compliance: rejected or destroyed consignments
    /// (APHA, Plant Health, FSA, Port Health).
    SanitaryAndPhytosanitary,
    /// Customs irregularities: debts, misdeclaration, undervaluation (HMRC).
    Customs,
}

/// One trader's record on one concern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoorHistory {
    pub eori: &'static str,
    pub concern: Concern,
    /// What happened, as a reason can quote it.
    pub record: &'static str,
}

pub const POOR_HISTORY: &[PoorHistory] = &[
    PoorHistory {
        eori: "GB266719370000",
        concern: Concern::Seizures,
        record: "1,840 pairs of counterfeit trainers seized at Southampton (SZ-2026-004417)",
    },
    PoorHistory {
        eori: "GB908172635000",
        concern: Concern::Seizures,
        record: "undeclared cigarettes found in a groupage trailer at Dover (SZ-2025-019204)",
    },
    PoorHistory {
        eori: "GB908172635000",
        concern: Concern::Customs,
        record: "a customs debt of £48,200 raised after a post-clearance audit in 2025",
    },
    PoorHistory {
        eori: "GB714250836000",
        concern: Concern::SanitaryAndPhytosanitary,
        record: "two poultry meat consignments rejected at Sevington in 2026: the health \
                 certificates did not match the goods",
    },
    PoorHistory {
        eori: "GB520379164000",
        concern: Concern::SanitaryAndPhytosanitary,
        record: "plants for planting destroyed at Felixstowe in 2025 after Xylella fastidiosa \
                 was found",
    },
];

/// The first record on `concern` of a trader named on `consignment`.
pub fn poor_history(consignment: &Consignment, concern: Concern) -> Option<&'static PoorHistory> {
    consignment.traders().find_map(|eori| {
        POOR_HISTORY
            .iter()
            .find(|history| history.concern == concern && history.eori == eori)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifiers::parse_eori;

    #[test]
    fn every_seeded_eori_is_well_formed() {
        for history in POOR_HISTORY {
            assert_eq!(parse_eori(history.eori).as_deref(), Ok(history.eori));
        }
    }

    #[tokio::test]
    async fn traders_with_seizures_in_the_border_force_department_have_a_poor_history() {
        let query = "{ seizures { consignment { trader { eori } } } }";
        let response = crate::border_force::schema().execute(query).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.into_json().unwrap_or_default();
        let seized: Vec<&str> = data["seizures"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|seizure| seizure["consignment"]["trader"]["eori"].as_str())
            .collect();
        assert!(!seized.is_empty());
        for eori in seized {
            assert!(
                POOR_HISTORY
                    .iter()
                    .any(|h| h.eori == eori && h.concern == Concern::Seizures),
                "{eori}"
            );
        }
    }
}
