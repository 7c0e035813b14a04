//! Which consignments a rate-based (BTOM medium-risk) check selects: a deterministic draw
//! from a hash of the agency and the consignment, so asking again gives the same answer and
//! each agency draws independently.

/// FNV-1a, 64 bits: small, stable across builds and platforms, no dependency.
fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.into_iter().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// Whether `agency` (its subgraph name) selects consignment `reference` at `percent` %.
/// 0 selects none and 100 (or more) every one.
pub fn selected_at_rate(agency: &str, reference: &str, percent: u32) -> bool {
    // The separator keeps ("ab", "c") and ("a", "bc") apart.
    let bytes = agency.bytes().chain([0xff]).chain(reference.bytes());
    fnv1a(bytes) % 100 < u64::from(percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(*b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(*b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(*b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn rates_select_about_their_share() {
        let selected = (0..10_000)
            .filter(|n| selected_at_rate("apha", &format!("CONS-{n}"), 30))
            .count();
        assert!((2_700..3_300).contains(&selected), "{selected}");
        assert!(!selected_at_rate("apha", "CONS-1", 0));
        assert!(selected_at_rate("apha", "CONS-1", 100));
    }
}
