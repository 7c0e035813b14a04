//! UK government identifiers: parsing, normalisation and the check rules each
//! one must pass, shared by the hub (which refuses a bad identifier before
//! anything is written) and the example departments.
//!
//! Every parser takes what a person might type (any case, optional spaces) and returns the
//! canonical form, or an [`InvalidIdentifier`] naming the identifier and the rule it breaks.

use chrono::NaiveDate;
use std::fmt;

/// Which identifier a value was meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierKind {
    Nino,
    Utr,
    CompanyNumber,
    VatNumber,
    Eori,
    Postcode,
    DrivingLicenceNumber,
    VehicleRegistration,
    PassportNumber,
}

impl IdentifierKind {
    /// The name a person would use for this identifier.
    pub const fn title(self) -> &'static str {
        match self {
            IdentifierKind::Nino => "National Insurance number",
            IdentifierKind::Utr => "Unique Taxpayer Reference",
            IdentifierKind::CompanyNumber => "company registration number",
            IdentifierKind::VatNumber => "VAT registration number",
            IdentifierKind::Eori => "EORI number",
            IdentifierKind::Postcode => "UK postcode",
            IdentifierKind::DrivingLicenceNumber => "driving licence number",
            IdentifierKind::VehicleRegistration => "vehicle registration number",
            IdentifierKind::PassportNumber => "passport number",
        }
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// The rule an identifier broke. `code()` is stable and machine readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierRule {
    NinoFormat,
    NinoFirstLetter,
    NinoSecondLetter,
    NinoPrefixNotAllocated,
    NinoSuffix,
    UtrFormat,
    UtrCheckDigit,
    CompanyNumberFormat,
    CompanyNumberPrefix,
    VatFormat,
    VatCheckDigits,
    EoriFormat,
    PostcodeFormat,
    LicenceFormat,
    LicenceDateOfBirth,
    LicenceDoesNotMatchHolder,
    RegistrationFormat,
    RegistrationAgeIdentifier,
    PassportFormat,
}

impl IdentifierRule {
    /// A stable code for the rule, e.g. `NINO_SUFFIX`.
    pub const fn code(self) -> &'static str {
        match self {
            IdentifierRule::NinoFormat => "NINO_FORMAT",
            IdentifierRule::NinoFirstLetter => "NINO_FIRST_LETTER",
            IdentifierRule::NinoSecondLetter => "NINO_SECOND_LETTER",
            IdentifierRule::NinoPrefixNotAllocated => "NINO_PREFIX_NOT_ALLOCATED",
            IdentifierRule::NinoSuffix => "NINO_SUFFIX",
            IdentifierRule::UtrFormat => "UTR_FORMAT",
            IdentifierRule::UtrCheckDigit => "UTR_CHECK_DIGIT",
            IdentifierRule::CompanyNumberFormat => "COMPANY_NUMBER_FORMAT",
            IdentifierRule::CompanyNumberPrefix => "COMPANY_NUMBER_PREFIX",
            IdentifierRule::VatFormat => "VAT_FORMAT",
            IdentifierRule::VatCheckDigits => "VAT_CHECK_DIGITS",
            IdentifierRule::EoriFormat => "EORI_FORMAT",
            IdentifierRule::PostcodeFormat => "POSTCODE_FORMAT",
            IdentifierRule::LicenceFormat => "DRIVING_LICENCE_FORMAT",
            IdentifierRule::LicenceDateOfBirth => "DRIVING_LICENCE_DATE_OF_BIRTH",
            IdentifierRule::LicenceDoesNotMatchHolder => "DRIVING_LICENCE_HOLDER",
            IdentifierRule::RegistrationFormat => "VEHICLE_REGISTRATION_FORMAT",
            IdentifierRule::RegistrationAgeIdentifier => "VEHICLE_REGISTRATION_AGE_IDENTIFIER",
            IdentifierRule::PassportFormat => "PASSPORT_NUMBER_FORMAT",
        }
    }

    /// The rule in words.
    pub const fn description(self) -> &'static str {
        match self {
            IdentifierRule::NinoFormat => {
                "two prefix letters, six digits and a suffix letter, e.g. QQ 12 34 56 C"
            }
            IdentifierRule::NinoFirstLetter => "the first letter cannot be D, F, I, Q, U or V",
            IdentifierRule::NinoSecondLetter => "the second letter cannot be D, F, I, O, Q, U or V",
            IdentifierRule::NinoPrefixNotAllocated => {
                "the prefixes BG, GB, KN, NK, NT, TN and ZZ are never allocated"
            }
            IdentifierRule::NinoSuffix => "the suffix letter must be A, B, C or D",
            IdentifierRule::UtrFormat => "ten digits",
            IdentifierRule::UtrCheckDigit => {
                "the first digit must be the modulus 11 check digit of the other nine"
            }
            IdentifierRule::CompanyNumberFormat => {
                "eight characters: eight digits, or a two-letter register prefix and six digits"
            }
            IdentifierRule::CompanyNumberPrefix => {
                "the two-letter prefix must name a register (SC, NI, OC, SO, NC, LP, SL, NL, FC, ...)"
            }
            IdentifierRule::VatFormat => {
                "GB followed by nine digits, or twelve digits for a branch trader"
            }
            IdentifierRule::VatCheckDigits => {
                "the last two digits must satisfy the modulus 97 (or 97-55) check"
            }
            IdentifierRule::EoriFormat => "GB or XI followed by twelve digits",
            IdentifierRule::PostcodeFormat => {
                "an outward code (e.g. SW1A) and an inward code (e.g. 2AA) as Royal Mail allocates them"
            }
            IdentifierRule::LicenceFormat => {
                "sixteen characters: five of surname, six of date of birth, two initials, a digit and two check letters"
            }
            IdentifierRule::LicenceDateOfBirth => {
                "characters 6 to 11 must encode a real date of birth"
            }
            IdentifierRule::LicenceDoesNotMatchHolder => {
                "the number must be derived from the holder's surname, date of birth and initials"
            }
            IdentifierRule::RegistrationFormat => {
                "two letters, a two-digit age identifier and three letters, e.g. AB12 CDE"
            }
            IdentifierRule::RegistrationAgeIdentifier => {
                "the age identifier must be 02-49 (March issues) or 51-99 (September issues)"
            }
            IdentifierRule::PassportFormat => "nine digits",
        }
    }
}

impl fmt::Display for IdentifierRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// A value that is not a valid identifier of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {kind}: {rule}")]
pub struct InvalidIdentifier {
    pub kind: IdentifierKind,
    pub rule: IdentifierRule,
}

fn invalid(kind: IdentifierKind, rule: IdentifierRule) -> InvalidIdentifier {
    InvalidIdentifier { kind, rule }
}

/// Upper-case the input and drop spaces, the way forms accept identifiers.
fn compact(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Bytes, not a `str`: a slice of a string at fixed offsets may fall inside
/// a multi-byte character, and a byte slice never panics.
fn all_digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

fn digit_values(s: &str) -> Vec<u32> {
    s.bytes().map(|b| u32::from(b - b'0')).collect()
}

/// National Insurance number, returned as `AB123456C`.
pub fn parse_nino(input: &str) -> Result<String, InvalidIdentifier> {
    use IdentifierRule::*;
    let kind = IdentifierKind::Nino;
    let value = compact(input);
    let bytes = value.as_bytes();
    if bytes.len() != 9
        || !bytes[0].is_ascii_uppercase()
        || !bytes[1].is_ascii_uppercase()
        || !all_digits(&bytes[2..8])
        || !bytes[8].is_ascii_uppercase()
    {
        return Err(invalid(kind, NinoFormat));
    }
    if b"DFIQUV".contains(&bytes[0]) {
        return Err(invalid(kind, NinoFirstLetter));
    }
    if b"DFIOQUV".contains(&bytes[1]) {
        return Err(invalid(kind, NinoSecondLetter));
    }
    if ["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"].contains(&&value[0..2]) {
        return Err(invalid(kind, NinoPrefixNotAllocated));
    }
    if !b"ABCD".contains(&bytes[8]) {
        return Err(invalid(kind, NinoSuffix));
    }
    Ok(value)
}

const UTR_WEIGHTS: [u32; 9] = [6, 7, 8, 9, 10, 5, 4, 3, 2];
const UTR_CHECK_BY_REMAINDER: [u32; 11] = [2, 1, 9, 8, 7, 6, 5, 4, 3, 2, 1];

/// The check digit (first digit) of a UTR whose other nine digits are `tail`.
pub fn utr_check_digit(tail: &[u32; 9]) -> u32 {
    let sum: u32 = tail.iter().zip(UTR_WEIGHTS).map(|(d, w)| d * w).sum();
    UTR_CHECK_BY_REMAINDER[(sum % 11) as usize]
}

/// Unique Taxpayer Reference (self assessment or corporation tax), returned as ten digits.
/// A `K` before or after the digits, as printed on some letters, is accepted and dropped.
pub fn parse_utr(input: &str) -> Result<String, InvalidIdentifier> {
    let kind = IdentifierKind::Utr;
    let value = compact(input);
    let digits = value
        .strip_prefix('K')
        .or_else(|| value.strip_suffix('K'))
        .unwrap_or(&value);
    if digits.len() != 10 || !all_digits(digits.as_bytes()) {
        return Err(invalid(kind, IdentifierRule::UtrFormat));
    }
    let values = digit_values(digits);
    let mut tail = [0u32; 9];
    tail.copy_from_slice(&values[1..]);
    if utr_check_digit(&tail) != values[0] {
        return Err(invalid(kind, IdentifierRule::UtrCheckDigit));
    }
    Ok(digits.to_string())
}

/// Register prefixes Companies House puts before six digits.
pub const COMPANY_NUMBER_PREFIXES: &[&str] = &[
    "SC", "NI", "R0", "OC", "SO", "NC", "LP", "SL", "NL", "FC", "SF", "NF", "SE", "ES", "GE", "GS",
    "GN", "IP", "SP", "NP", "RC", "SR", "NR", "RS", "SA", "NA", "IC", "SI", "NO", "PC", "CE", "CS",
    "ZC", "SZ", "NZ",
];

/// Companies House registration number, returned as eight characters.
/// Shorter all-digit numbers are padded with leading zeros, as Companies House does.
pub fn parse_company_number(input: &str) -> Result<String, InvalidIdentifier> {
    let kind = IdentifierKind::CompanyNumber;
    let value = compact(input);
    if all_digits(value.as_bytes()) && value.len() <= 8 {
        return Ok(format!("{value:0>8}"));
    }
    if value.len() != 8 || !value.is_ascii() || !all_digits(&value.as_bytes()[2..]) {
        return Err(invalid(kind, IdentifierRule::CompanyNumberFormat));
    }
    let prefix = &value[..2];
    if !prefix.bytes().all(|b| b.is_ascii_uppercase()) && prefix != "R0" {
        return Err(invalid(kind, IdentifierRule::CompanyNumberFormat));
    }
    if !COMPANY_NUMBER_PREFIXES.contains(&prefix) {
        return Err(invalid(kind, IdentifierRule::CompanyNumberPrefix));
    }
    Ok(value)
}

const VAT_WEIGHTS: [u32; 7] = [8, 7, 6, 5, 4, 3, 2];

/// UK VAT registration number, returned as `GB` and nine (or twelve) digits.
pub fn parse_vat_number(input: &str) -> Result<String, InvalidIdentifier> {
    let kind = IdentifierKind::VatNumber;
    let value = compact(input);
    let digits = value.strip_prefix("GB").unwrap_or(&value);
    if !(digits.len() == 9 || digits.len() == 12) || !all_digits(digits.as_bytes()) {
        return Err(invalid(kind, IdentifierRule::VatFormat));
    }
    let values = digit_values(&digits[..9]);
    let weighted: u32 = values[..7]
        .iter()
        .zip(VAT_WEIGHTS)
        .map(|(d, w)| d * w)
        .sum();
    let check = values[7] * 10 + values[8];
    let modulus_97 = (weighted + check).is_multiple_of(97);
    let modulus_9755 = (weighted + 55 + check).is_multiple_of(97);
    if !(modulus_97 || modulus_9755) {
        return Err(invalid(kind, IdentifierRule::VatCheckDigits));
    }
    Ok(format!("GB{digits}"))
}

/// Economic Operators Registration and Identification number, returned as `GB`/`XI` and twelve digits.
pub fn parse_eori(input: &str) -> Result<String, InvalidIdentifier> {
    let value = compact(input);
    let valid = value.len() == 14
        && (value.starts_with("GB") || value.starts_with("XI"))
        && all_digits(&value.as_bytes()[2..]);
    if !valid {
        return Err(invalid(IdentifierKind::Eori, IdentifierRule::EoriFormat));
    }
    Ok(value)
}

/// UK postcode, returned as outward code, one space, inward code (`SW1A 2AA`).
pub fn parse_postcode(input: &str) -> Result<String, InvalidIdentifier> {
    let value = compact(input);
    let err = || invalid(IdentifierKind::Postcode, IdentifierRule::PostcodeFormat);
    if value == "GIR0AA" {
        return Ok("GIR 0AA".to_string());
    }
    if !(5..=7).contains(&value.len()) || !value.is_ascii() {
        return Err(err());
    }
    let (outward, inward) = value.split_at(value.len() - 3);
    let inward_bytes = inward.as_bytes();
    let inward_ok = inward_bytes[0].is_ascii_digit()
        && inward_bytes[1..]
            .iter()
            .all(|b| b.is_ascii_uppercase() && !b"CIKMOV".contains(b));
    if !inward_ok || !outward_code_is_valid(outward.as_bytes()) {
        return Err(err());
    }
    Ok(format!("{outward} {inward}"))
}

fn outward_code_is_valid(o: &[u8]) -> bool {
    let area_first = |b: u8| b.is_ascii_uppercase() && !b"QVX".contains(&b);
    let area_second = |b: u8| b.is_ascii_uppercase() && !b"IJZ".contains(&b);
    let digit = |b: u8| b.is_ascii_digit();
    match *o {
        // A9
        [a, d] => area_first(a) && digit(d),
        // A99, A9A, AA9
        [a, x, y] => {
            let a99 = digit(x) && digit(y);
            let a9a = digit(x) && b"ABCDEFGHJKPSTUW".contains(&y);
            let aa9 = area_second(x) && digit(y);
            area_first(a) && (a99 || a9a || aa9)
        }
        // AA99, AA9A
        [a, b, d, x] => {
            area_first(a)
                && area_second(b)
                && digit(d)
                && (digit(x) || b"ABEHMNPRVWXY".contains(&x))
        }
        _ => false,
    }
}

/// Whether the holder of a driving licence is recorded as female (the month of birth is
/// then encoded plus 50).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenceSex {
    Male,
    Female,
}

/// The five surname characters of a DVLA driver number: letters only, `MAC` shortened to
/// `MC`, padded with `9`.
pub fn licence_surname_code(surname: &str) -> String {
    let letters: String = surname
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let letters = match letters.strip_prefix("MAC") {
        Some(rest) => format!("MC{rest}"),
        None => letters,
    };
    let mut code: String = letters.chars().take(5).collect();
    while code.len() < 5 {
        code.push('9');
    }
    code
}

/// The first sixteen-character-number fields derived from the holder: surname code, date of
/// birth (decade, month, day, year) and two initials. The last three characters are issued
/// by DVLA.
pub fn licence_holder_prefix(
    surname: &str,
    given_names: &str,
    date_of_birth: NaiveDate,
    sex: LicenceSex,
) -> String {
    use chrono::Datelike;
    let year = date_of_birth.year().rem_euclid(100);
    let month = date_of_birth.month() + if sex == LicenceSex::Female { 50 } else { 0 };
    let mut initials: String = given_names
        .split_whitespace()
        .filter_map(|name| name.chars().find(|c| c.is_ascii_alphabetic()))
        .map(|c| c.to_ascii_uppercase())
        .take(2)
        .collect();
    while initials.len() < 2 {
        initials.push('9');
    }
    format!(
        "{}{}{:02}{:02}{}{}",
        licence_surname_code(surname),
        year / 10,
        month,
        date_of_birth.day(),
        year % 10,
        initials
    )
}

/// DVLA driver number (sixteen characters), checked for shape and for an encoded date of
/// birth that exists. Returned upper-case without spaces.
pub fn parse_driving_licence_number(input: &str) -> Result<String, InvalidIdentifier> {
    use IdentifierRule::*;
    let kind = IdentifierKind::DrivingLicenceNumber;
    let value = compact(input);
    let b = value.as_bytes();
    let surname_ok = b.len() == 16
        && b[..5]
            .iter()
            .all(|c| c.is_ascii_uppercase() || *c == b'9')
        && b[0].is_ascii_uppercase()
        // padding only after the letters
        && !b[..5].windows(2).any(|w| w[0] == b'9' && w[1] != b'9');
    if !surname_ok
        || !all_digits(&b[5..11])
        || !(b[11].is_ascii_uppercase())
        || !(b[12].is_ascii_uppercase() || b[12] == b'9')
        || !b[13].is_ascii_digit()
        || !b[14..].iter().all(|c| c.is_ascii_uppercase())
    {
        return Err(invalid(kind, LicenceFormat));
    }
    if licence_date_of_birth(&value).is_none() {
        return Err(invalid(kind, LicenceDateOfBirth));
    }
    Ok(value)
}

/// A date of birth consistent with the licence number's encoded digits (either century).
fn licence_date_of_birth(number: &str) -> Option<NaiveDate> {
    let d = digit_values(&number[5..11]);
    let month = d[1] * 10 + d[2];
    let month = if month > 50 { month - 50 } else { month };
    let day = d[3] * 10 + d[4];
    let year_in_century = i32::try_from(d[0] * 10 + d[5]).ok()?;
    [1900, 2000]
        .iter()
        .find_map(|century| NaiveDate::from_ymd_opt(century + year_in_century, month, day))
}

/// Check that a (valid) driver number was derived from this holder's details.
pub fn check_licence_holder(
    number: &str,
    surname: &str,
    given_names: &str,
    date_of_birth: NaiveDate,
    sex: LicenceSex,
) -> Result<(), InvalidIdentifier> {
    let number = parse_driving_licence_number(number)?;
    let expected = licence_holder_prefix(surname, given_names, date_of_birth, sex);
    if number.starts_with(&expected) {
        Ok(())
    } else {
        Err(invalid(
            IdentifierKind::DrivingLicenceNumber,
            IdentifierRule::LicenceDoesNotMatchHolder,
        ))
    }
}

/// Vehicle registration in the current (2001 onwards) GB format, returned as `AB12 CDE`.
pub fn parse_vehicle_registration(input: &str) -> Result<String, InvalidIdentifier> {
    use IdentifierRule::*;
    let kind = IdentifierKind::VehicleRegistration;
    let value = compact(input);
    let b = value.as_bytes();
    let letter_not_iq = |c: &u8| c.is_ascii_uppercase() && !b"IQ".contains(c);
    let shape_ok = b.len() == 7
        && b"ABCDEFGHKLMNOPRSVWY".contains(&b[0])
        && letter_not_iq(&b[1])
        && b[1] != b'Z'
        && b[2].is_ascii_digit()
        && b[3].is_ascii_digit()
        && b[4..].iter().all(letter_not_iq);
    if !shape_ok {
        return Err(invalid(kind, RegistrationFormat));
    }
    let age = (b[2] - b'0') * 10 + (b[3] - b'0');
    if matches!(age, 0 | 1 | 50) {
        return Err(invalid(kind, RegistrationAgeIdentifier));
    }
    Ok(format!("{} {}", &value[..4], &value[4..]))
}

/// UK passport number: nine digits.
pub fn parse_passport_number(input: &str) -> Result<String, InvalidIdentifier> {
    let value = compact(input);
    if value.len() != 9 || !all_digits(value.as_bytes()) {
        return Err(invalid(
            IdentifierKind::PassportNumber,
            IdentifierRule::PassportFormat,
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_byte_character_at_a_fixed_offset_is_refused_not_a_panic() {
        // Found by fuzzing: slicing the text at byte 8 or 11 fell inside 'é'.
        assert!(parse_nino("AB12345é").is_err());
        assert!(parse_driving_licence_number("ABCDE12345éA9AA").is_err());
    }

    fn rule<T>(result: Result<T, InvalidIdentifier>) -> IdentifierRule {
        match result {
            Ok(_) => panic!("expected the identifier to be rejected"),
            Err(e) => e.rule,
        }
    }

    #[test]
    fn errors_name_the_identifier_and_the_rule() {
        let error = parse_nino("AB123456E").unwrap_err();
        assert_eq!(error.rule.code(), "NINO_SUFFIX");
        assert_eq!(
            error.to_string(),
            "not a valid National Insurance number: the suffix letter must be A, B, C or D"
        );
    }

    #[test]
    fn nino_rules() {
        assert_eq!(parse_nino("jk 52 81 94 c").as_deref(), Ok("JK528194C"));
        assert_eq!(rule(parse_nino("JK52819C")), IdentifierRule::NinoFormat);
        assert_eq!(
            rule(parse_nino("DA123456A")),
            IdentifierRule::NinoFirstLetter
        );
        assert_eq!(
            rule(parse_nino("AO123456A")),
            IdentifierRule::NinoSecondLetter
        );
        assert_eq!(
            rule(parse_nino("GB123456A")),
            IdentifierRule::NinoPrefixNotAllocated
        );
        assert_eq!(
            rule(parse_nino("ZZ123456A")),
            IdentifierRule::NinoPrefixNotAllocated
        );
        assert_eq!(rule(parse_nino("JK123456E")), IdentifierRule::NinoSuffix);
    }

    #[test]
    fn utr_check_digit_rule() {
        // HMRC's published examples of valid references.
        assert_eq!(parse_utr("2234567890").as_deref(), Ok("2234567890"));
        assert_eq!(parse_utr("2234567890K").as_deref(), Ok("2234567890"));
        assert_eq!(rule(parse_utr("1234567890")), IdentifierRule::UtrCheckDigit);
        assert_eq!(rule(parse_utr("223456789")), IdentifierRule::UtrFormat);
    }

    #[test]
    fn company_number_rules() {
        assert_eq!(parse_company_number("SC512847").as_deref(), Ok("SC512847"));
        assert_eq!(parse_company_number("451329").as_deref(), Ok("00451329"));
        assert_eq!(
            rule(parse_company_number("XX123456")),
            IdentifierRule::CompanyNumberPrefix
        );
        assert_eq!(
            rule(parse_company_number("SC12345")),
            IdentifierRule::CompanyNumberFormat
        );
    }

    #[test]
    fn vat_check_digit_rules() {
        // Old (modulus 97) and new (97-55) schemes.
        assert_eq!(
            parse_vat_number("GB 339 0727 47").as_deref(),
            Ok("GB339072747")
        );
        assert_eq!(parse_vat_number("101747696").as_deref(), Ok("GB101747696"));
        assert_eq!(
            parse_vat_number("GB287461957").as_deref(),
            Ok("GB287461957")
        );
        assert_eq!(
            rule(parse_vat_number("GB339072748")),
            IdentifierRule::VatCheckDigits
        );
        assert_eq!(
            rule(parse_vat_number("GB33907274")),
            IdentifierRule::VatFormat
        );
    }

    #[test]
    fn eori_and_passport_rules() {
        assert!(parse_eori("GB287461957000").is_ok());
        assert!(parse_eori("XI287461957000").is_ok());
        assert_eq!(
            rule(parse_eori("GB28746195700")),
            IdentifierRule::EoriFormat
        );
        assert!(parse_passport_number("533401872").is_ok());
        assert_eq!(
            rule(parse_passport_number("53340187A")),
            IdentifierRule::PassportFormat
        );
    }

    #[test]
    fn postcode_rules() {
        for (input, canonical) in [
            ("sw1a2aa", "SW1A 2AA"),
            ("M1 1AE", "M1 1AE"),
            ("B33 8TH", "B33 8TH"),
            ("CR2 6XH", "CR2 6XH"),
            ("DN55 1PT", "DN55 1PT"),
            ("W1A 0AX", "W1A 0AX"),
            ("EC1A 1BB", "EC1A 1BB"),
        ] {
            assert_eq!(parse_postcode(input).as_deref(), Ok(canonical), "{input}");
        }
        for bad in ["QA1 1AA", "SW1A 2CA", "SW1A", "1AB 2CD", "AA1A1 1AA"] {
            assert_eq!(
                rule(parse_postcode(bad)),
                IdentifierRule::PostcodeFormat,
                "{bad}"
            );
        }
    }

    #[test]
    fn driving_licence_number_is_derived_from_holder() {
        let dob = NaiveDate::from_ymd_opt(1957, 3, 14).unwrap();
        assert_eq!(
            licence_holder_prefix("Thompson", "Margaret Elizabeth", dob, LicenceSex::Female),
            "THOMP553147ME"
        );
        let dob = NaiveDate::from_ymd_opt(1969, 12, 1).unwrap();
        assert_eq!(
            licence_holder_prefix("MacDonald", "Robert", dob, LicenceSex::Male),
            "MCDON612019R9"
        );
        assert_eq!(licence_surname_code("O'Brien"), "OBRIE");
        assert_eq!(licence_surname_code("Ng"), "NG999");
        assert_eq!(
            rule(parse_driving_licence_number("THOMP553327ME9LK")),
            IdentifierRule::LicenceDateOfBirth
        );
        assert_eq!(
            rule(parse_driving_licence_number("THOMP553147ME9L")),
            IdentifierRule::LicenceFormat
        );
        assert_eq!(
            rule(check_licence_holder(
                "THOMP553147ME9LK",
                "Thompson",
                "Margaret Elizabeth",
                NaiveDate::from_ymd_opt(1957, 3, 15).unwrap(),
                LicenceSex::Female
            )),
            IdentifierRule::LicenceDoesNotMatchHolder
        );
    }

    #[test]
    fn vehicle_registration_rules() {
        assert_eq!(
            parse_vehicle_registration("yd21kxe").as_deref(),
            Ok("YD21 KXE")
        );
        assert_eq!(
            rule(parse_vehicle_registration("YD01 KXE")),
            IdentifierRule::RegistrationAgeIdentifier
        );
        assert_eq!(
            rule(parse_vehicle_registration("QD21 KXE")),
            IdentifierRule::RegistrationFormat
        );
        assert_eq!(
            rule(parse_vehicle_registration("YD21 KIE")),
            IdentifierRule::RegistrationFormat
        );
    }
}
