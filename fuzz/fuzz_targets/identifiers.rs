//! Every parser of `tellonce-identifiers` on the input (UTF-8, lossily), with
//! these properties for each:
//!
//! * a value that parses gives an ASCII canonical form, and that canonical
//!   form parses again to itself (idempotence);
//! * the canonical form with spaces between its characters, or lower-cased,
//!   parses to the same canonical form (forms accept either);
//! * the input lower-cased (ASCII) gives exactly the same result as the input.
//!
//! The input split at `|` as `surname|given names|YYYY-MM-DD|F` also checks
//! the driving-licence derivation: a number built from
//! `licence_holder_prefix` parses and `check_licence_holder` accepts it for
//! that holder. The first ten digits found in the input check
//! `utr_check_digit` against `parse_utr`.

#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use tellonce_identifiers::{
    check_licence_holder, licence_holder_prefix, licence_surname_code, parse_company_number,
    parse_driving_licence_number, parse_eori, parse_nino, parse_passport_number, parse_postcode,
    parse_utr, parse_vat_number, parse_vehicle_registration, utr_check_digit, InvalidIdentifier,
    LicenceSex,
};

type Parser = fn(&str) -> Result<String, InvalidIdentifier>;

const PARSERS: &[(&str, Parser)] = &[
    ("nino", parse_nino),
    ("utr", parse_utr),
    ("company number", parse_company_number),
    ("vat", parse_vat_number),
    ("eori", parse_eori),
    ("postcode", parse_postcode),
    ("driving licence", parse_driving_licence_number),
    ("vehicle registration", parse_vehicle_registration),
    ("passport", parse_passport_number),
];

fn properties(input: &str) {
    for (name, parse) in PARSERS {
        let result = parse(input);
        assert_eq!(
            parse(&input.to_ascii_lowercase()),
            result,
            "{name}: lower-casing the input changed the result for {input:?}"
        );
        let Ok(canonical) = result else { continue };
        assert!(canonical.is_ascii(), "{name}: canonical form {canonical:?} is not ASCII");
        assert_eq!(
            parse(&canonical).as_deref(),
            Ok(canonical.as_str()),
            "{name}: the canonical form of {input:?} does not parse to itself"
        );
        let spaced: String = canonical
            .chars()
            .filter(|c| *c != ' ')
            .flat_map(|c| [c, ' '])
            .collect();
        assert_eq!(
            parse(&spaced).as_deref(),
            Ok(canonical.as_str()),
            "{name}: spacing out {canonical:?} changed it"
        );
        assert_eq!(
            parse(&canonical.to_ascii_lowercase()).as_deref(),
            Ok(canonical.as_str()),
            "{name}: lower-case {canonical:?} changed it"
        );
    }
}

fn licence(input: &str) {
    let mut parts = input.splitn(4, '|');
    let (Some(surname), Some(given), Some(dob)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let sex = match parts.next() {
        Some(s) if s.starts_with('F') => LicenceSex::Female,
        _ => LicenceSex::Male,
    };
    let Ok(dob) = NaiveDate::parse_from_str(dob, "%Y-%m-%d") else {
        return;
    };
    let code = licence_surname_code(surname);
    assert_eq!(code.len(), 5);
    let prefix = licence_holder_prefix(surname, given, dob, sex);
    assert_eq!(prefix.len(), 13, "prefix {prefix:?}");
    let number = format!("{prefix}9AA");
    let has_letter = |s: &str| s.chars().any(|c| c.is_ascii_alphabetic());
    if has_letter(surname) && has_letter(given) {
        assert_eq!(
            parse_driving_licence_number(&number).as_deref(),
            Ok(number.as_str()),
            "a number derived for {surname:?} {given:?} {dob} does not parse"
        );
        assert_eq!(
            check_licence_holder(&number, surname, given, dob, sex),
            Ok(()),
            "a number derived for {surname:?} {given:?} {dob} does not match its holder"
        );
    } else {
        let _ = check_licence_holder(&number, surname, given, dob, sex);
    }
}

fn utr(input: &str) {
    let digits: Vec<u32> = input.chars().filter_map(|c| c.to_digit(10)).take(9).collect();
    let Ok(tail) = <[u32; 9]>::try_from(digits) else {
        return;
    };
    let check = utr_check_digit(&tail);
    assert!(check <= 9);
    let number: String = std::iter::once(check)
        .chain(tail)
        .map(|d| char::from_digit(d, 10).unwrap())
        .collect();
    assert_eq!(parse_utr(&number).as_deref(), Ok(number.as_str()));
    assert_eq!(parse_utr(&format!("{number}K")).as_deref(), Ok(number.as_str()));
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    properties(&input);
    licence(&input);
    utr(&input);
});
