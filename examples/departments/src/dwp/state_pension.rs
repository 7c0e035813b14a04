//! State Pension age under the Pensions Acts 1995, 2007, 2011 and 2014.
//!
//! Simplifications, stated so nobody relies on them: the 2010-2018 equalisation of women's
//! State Pension age is not modelled (everyone born before 6 October 1954 reaches it at 65),
//! and the 2044-2046 rise to 68 is modelled as a step for those born on or after 6 April 1978.

use chrono::{Datelike, Months, NaiveDate};

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// The date someone born on `date_of_birth` reaches State Pension age.
pub fn state_pension_date(date_of_birth: NaiveDate) -> NaiveDate {
    let months = if date_of_birth < date(1954, 10, 6) {
        65 * 12
    } else if date_of_birth < date(1960, 4, 6) {
        66 * 12
    } else if date_of_birth < date(1961, 3, 6) {
        // Born 6 April - 5 May 1960: 66 years and 1 month; each later month adds one more.
        let months_since = (date_of_birth.year() - 1960) * 12 + date_of_birth.month() as i32 - 4;
        let band = if date_of_birth.day() >= 6 {
            months_since
        } else {
            months_since - 1
        };
        66 * 12 + 1 + band
    } else if date_of_birth < date(1978, 4, 6) {
        67 * 12
    } else {
        68 * 12
    };
    let months = u32::try_from(months).unwrap_or(0);
    date_of_birth
        .checked_add_months(Months::new(months))
        .unwrap_or(date_of_birth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pension_age_bands() {
        assert_eq!(state_pension_date(date(1948, 9, 30)), date(2013, 9, 30));
        assert_eq!(state_pension_date(date(1957, 3, 14)), date(2023, 3, 14));
        // Transitional band: 66 years and 1 month, up to 66 years and 11 months.
        assert_eq!(state_pension_date(date(1960, 4, 6)), date(2026, 5, 6));
        assert_eq!(state_pension_date(date(1960, 5, 5)), date(2026, 6, 5));
        assert_eq!(state_pension_date(date(1960, 5, 6)), date(2026, 7, 6));
        assert_eq!(state_pension_date(date(1961, 3, 5)), date(2028, 2, 5));
        assert_eq!(state_pension_date(date(1969, 12, 1)), date(2036, 12, 1));
        assert_eq!(state_pension_date(date(1984, 7, 22)), date(2052, 7, 22));
        // A 29 February birthday falls back to the end of February.
        assert_eq!(state_pension_date(date(1964, 2, 29)), date(2031, 2, 28));
    }
}
