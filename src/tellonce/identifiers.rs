//! UK identifiers checked at the edge before anything is written: National
//! Insurance number, Unique Taxpayer Reference, company number, VAT number,
//! EORI and postcode. Each check returns the canonical form or the rule the
//! value breaks, worded for the person who typed it.

use std::fmt;

/// A rule an identifier breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierRule {
    NinoFormat,
    NinoPrefix,
    NinoSuffix,
    UtrFormat,
    UtrCheckDigit,
    CompanyNumberFormat,
    CompanyNumberPrefix,
    VatFormat,
    VatCheckDigits,
    EoriFormat,
    PostcodeFormat,
}

impl IdentifierRule {
    /// A stable code for the rule, given in `extensions.rule`.
    pub const fn code(self) -> &'static str {
        match self {
            IdentifierRule::NinoFormat => "NINO_FORMAT",
            IdentifierRule::NinoPrefix => "NINO_PREFIX",
            IdentifierRule::NinoSuffix => "NINO_SUFFIX",
            IdentifierRule::UtrFormat => "UTR_FORMAT",
            IdentifierRule::UtrCheckDigit => "UTR_CHECK_DIGIT",
            IdentifierRule::CompanyNumberFormat => "COMPANY_NUMBER_FORMAT",
            IdentifierRule::CompanyNumberPrefix => "COMPANY_NUMBER_PREFIX",
            IdentifierRule::VatFormat => "VAT_FORMAT",
            IdentifierRule::VatCheckDigits => "VAT_CHECK_DIGITS",
            IdentifierRule::EoriFormat => "EORI_FORMAT",
            IdentifierRule::PostcodeFormat => "POSTCODE_FORMAT",
        }
    }

    /// What the rule asks, in words.
    pub const fn description(self) -> &'static str {
        match self {
            IdentifierRule::NinoFormat => {
                "a National Insurance number is two letters, six digits and a letter (e.g. QQ123456C)"
            }
            IdentifierRule::NinoPrefix => {
                "the first two letters of a National Insurance number must not use D, F, I, Q, U or V (nor O second), and BG, GB, KN, NK, NT, TN and ZZ are never allocated"
            }
            IdentifierRule::NinoSuffix => "a National Insurance number ends in A, B, C or D",
            IdentifierRule::UtrFormat => "a Unique Taxpayer Reference is ten digits",
            IdentifierRule::UtrCheckDigit => {
                "the first digit of a Unique Taxpayer Reference must match its modulus 11 check"
            }
            IdentifierRule::CompanyNumberFormat => {
                "a company number is eight digits, or a two-letter register prefix and six digits"
            }
            IdentifierRule::CompanyNumberPrefix => {
                "the company number prefix is not a Companies House register (e.g. SC, NI, OC, LP, FC)"
            }
            IdentifierRule::VatFormat => "a VAT number is GB and nine digits (or twelve for a branch)",
            IdentifierRule::VatCheckDigits => {
                "the last two digits of a VAT number must match its modulus 97 check"
            }
            IdentifierRule::EoriFormat => "an EORI number is GB (or XI) and twelve digits",
            IdentifierRule::PostcodeFormat => "not a UK postcode (e.g. SW1A 2AA)",
        }
    }
}

impl fmt::Display for IdentifierRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// Upper case without spaces.
fn compact(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

fn digits(s: &str) -> Option<Vec<u32>> {
    s.chars().map(|c| c.to_digit(10)).collect()
}

/// National Insurance number: `QQ123456C`.
pub fn nino(input: &str) -> Result<String, IdentifierRule> {
    let value = compact(input);
    let b = value.as_bytes();
    let shaped = b.len() == 9
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..8].iter().all(u8::is_ascii_digit)
        && b[8].is_ascii_uppercase();
    if !shaped {
        return Err(IdentifierRule::NinoFormat);
    }
    let prefix = &value[..2];
    if b"DFIQUV".contains(&b[0])
        || b"DFIOQUV".contains(&b[1])
        || ["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"].contains(&prefix)
    {
        return Err(IdentifierRule::NinoPrefix);
    }
    if !b"ABCD".contains(&b[8]) {
        return Err(IdentifierRule::NinoSuffix);
    }
    Ok(value)
}

/// Unique Taxpayer Reference: ten digits whose first is a modulus 11 check
/// over the other nine (weights 6, 7, 8, 9, 10, 5, 4, 3, 2). A `K` printed
/// before or after the digits is dropped.
pub fn utr(input: &str) -> Result<String, IdentifierRule> {
    let value = compact(input);
    let body = value
        .strip_prefix('K')
        .or_else(|| value.strip_suffix('K'))
        .unwrap_or(&value);
    let d = match digits(body) {
        Some(d) if d.len() == 10 => d,
        _ => return Err(IdentifierRule::UtrFormat),
    };
    const WEIGHTS: [u32; 9] = [6, 7, 8, 9, 10, 5, 4, 3, 2];
    const CHECK: [u32; 11] = [2, 1, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    let sum: u32 = d[1..].iter().zip(WEIGHTS).map(|(x, w)| x * w).sum();
    if CHECK[(sum % 11) as usize] != d[0] {
        return Err(IdentifierRule::UtrCheckDigit);
    }
    Ok(body.to_string())
}

/// Registers Companies House puts before six digits.
pub const COMPANY_NUMBER_PREFIXES: &[&str] = &[
    "SC", "NI", "R0", "OC", "SO", "NC", "LP", "SL", "NL", "FC", "SF", "NF", "SE", "ES", "GE", "GS",
    "GN", "IP", "SP", "NP", "RC", "SR", "NR", "RS", "SA", "NA", "IC", "SI", "NO", "PC", "CE", "CS",
    "ZC", "SZ", "NZ",
];

/// Company number: eight characters, digits or a register prefix and six digits.
pub fn company_number(input: &str) -> Result<String, IdentifierRule> {
    let value = compact(input);
    if value.len() != 8 || !value.is_ascii() {
        return Err(IdentifierRule::CompanyNumberFormat);
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(value);
    }
    if !value[2..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdentifierRule::CompanyNumberFormat);
    }
    if !COMPANY_NUMBER_PREFIXES.contains(&&value[..2]) {
        return Err(IdentifierRule::CompanyNumberPrefix);
    }
    Ok(value)
}

/// VAT number: `GB` and nine digits (twelve for a branch) passing the
/// modulus 97 check (or the 97-55 scheme).
pub fn vat_number(input: &str) -> Result<String, IdentifierRule> {
    let value = compact(input);
    let body = value.strip_prefix("GB").unwrap_or(&value);
    let d = match digits(body) {
        Some(d) if d.len() == 9 || d.len() == 12 => d,
        _ => return Err(IdentifierRule::VatFormat),
    };
    const WEIGHTS: [u32; 7] = [8, 7, 6, 5, 4, 3, 2];
    let weighted: u32 = d[..7].iter().zip(WEIGHTS).map(|(x, w)| x * w).sum();
    let check = d[7] * 10 + d[8];
    if !(weighted + check).is_multiple_of(97) && !(weighted + 55 + check).is_multiple_of(97) {
        return Err(IdentifierRule::VatCheckDigits);
    }
    Ok(format!("GB{body}"))
}

/// EORI: `GB` (or `XI` for Northern Ireland) and twelve digits.
pub fn eori(input: &str) -> Result<String, IdentifierRule> {
    let value = compact(input);
    let ok = value.len() == 14
        && (value.starts_with("GB") || value.starts_with("XI"))
        && value[2..].bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(value)
    } else {
        Err(IdentifierRule::EoriFormat)
    }
}

/// UK postcode, returned as outward code, a space, inward code.
pub fn postcode(input: &str) -> Result<String, IdentifierRule> {
    let value = compact(input);
    if value == "GIR0AA" {
        return Ok("GIR 0AA".into());
    }
    if !(5..=7).contains(&value.len()) || !value.is_ascii() {
        return Err(IdentifierRule::PostcodeFormat);
    }
    let (outward, inward) = value.split_at(value.len() - 3);
    let i = inward.as_bytes();
    let inward_ok = i[0].is_ascii_digit()
        && i[1..]
            .iter()
            .all(|b| b.is_ascii_uppercase() && !b"CIKMOV".contains(b));
    if !inward_ok || !outward_ok(outward.as_bytes()) {
        return Err(IdentifierRule::PostcodeFormat);
    }
    Ok(format!("{outward} {inward}"))
}

fn outward_ok(o: &[u8]) -> bool {
    let first = |b: u8| b.is_ascii_uppercase() && !b"QVX".contains(&b);
    let second = |b: u8| b.is_ascii_uppercase() && !b"IJZ".contains(&b);
    let digit = |b: u8| b.is_ascii_digit();
    match *o {
        [a, d] => first(a) && digit(d),
        [a, x, y] => {
            first(a)
                && ((digit(x) && digit(y))
                    || (digit(x) && b"ABCDEFGHJKPSTUW".contains(&y))
                    || (second(x) && digit(y)))
        }
        [a, b, d, x] => {
            first(a) && second(b) && digit(d) && (digit(x) || b"ABEHMNPRVWXY".contains(&x))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nino_rules() {
        assert_eq!(nino("ab 12 34 56 c").as_deref(), Ok("AB123456C"));
        assert_eq!(nino("AB12345C"), Err(IdentifierRule::NinoFormat));
        assert_eq!(nino("DA123456C"), Err(IdentifierRule::NinoPrefix));
        assert_eq!(nino("AO123456C"), Err(IdentifierRule::NinoPrefix));
        assert_eq!(nino("GB123456C"), Err(IdentifierRule::NinoPrefix));
        assert_eq!(nino("AB123456E"), Err(IdentifierRule::NinoSuffix));
    }

    #[test]
    fn utr_rules() {
        assert_eq!(utr("2234567890").as_deref(), Ok("2234567890"));
        assert_eq!(utr("K2234567890").as_deref(), Ok("2234567890"));
        assert_eq!(utr("1234567890"), Err(IdentifierRule::UtrCheckDigit));
        assert_eq!(utr("223456789"), Err(IdentifierRule::UtrFormat));
    }

    #[test]
    fn company_number_rules() {
        assert_eq!(company_number("SC512847").as_deref(), Ok("SC512847"));
        assert_eq!(company_number("01234567").as_deref(), Ok("01234567"));
        assert_eq!(
            company_number("XX123456"),
            Err(IdentifierRule::CompanyNumberPrefix)
        );
        assert_eq!(
            company_number("SC12345"),
            Err(IdentifierRule::CompanyNumberFormat)
        );
        assert_eq!(
            company_number("SC12345A"),
            Err(IdentifierRule::CompanyNumberFormat)
        );
    }

    #[test]
    fn vat_rules() {
        assert_eq!(vat_number("GB 339 0727 47").as_deref(), Ok("GB339072747"));
        assert_eq!(vat_number("GB287461957").as_deref(), Ok("GB287461957"));
        assert_eq!(
            vat_number("GB339072748"),
            Err(IdentifierRule::VatCheckDigits)
        );
        assert_eq!(vat_number("GB33907274"), Err(IdentifierRule::VatFormat));
    }

    #[test]
    fn eori_and_postcode_rules() {
        assert!(eori("GB287461957000").is_ok());
        assert_eq!(eori("GB28746195700"), Err(IdentifierRule::EoriFormat));
        assert_eq!(eori("FR287461957000"), Err(IdentifierRule::EoriFormat));
        assert_eq!(postcode("sw1a2aa").as_deref(), Ok("SW1A 2AA"));
        assert_eq!(postcode("M1 1AE").as_deref(), Ok("M1 1AE"));
        for bad in ["QA1 1AA", "SW1A 2CA", "SW1A", "AA1A1 1AA"] {
            assert_eq!(postcode(bad), Err(IdentifierRule::PostcodeFormat), "{bad}");
        }
    }
}
