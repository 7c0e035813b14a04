//! GraphQL types every department defines identically: the `Date` scalar, postal addresses
//! and the receipts of applied notifications. Value types are `@shareable` so the
//! subgraphs compose.

use crate::department_error::{parse_argument, DepartmentError};
use crate::identifiers::{parse_nino, parse_postcode};
use crate::notification_journal::NotificationRequest;
use async_graphql::{
    Enum, InputObject, InputValueError, InputValueResult, Scalar, ScalarType, SimpleObject, Value,
};
use chrono::{DateTime, NaiveDate, Utc};

/// A calendar date, `YYYY-MM-DD` (ISO 8601).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("expected a date as YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<NaiveDate> for Date {
    fn from(date: NaiveDate) -> Self {
        Date(date)
    }
}

/// A UK postal address.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
#[graphql(shareable)]
pub struct Address {
    pub line1: String,
    pub line2: Option<String>,
    pub town: String,
    pub postcode: String,
}

impl Address {
    /// An address from seed data (not validated here: seed tests check every postcode).
    pub fn new(line1: &str, line2: Option<&str>, town: &str, postcode: &str) -> Self {
        Address {
            line1: line1.to_string(),
            line2: line2.map(str::to_string),
            town: town.to_string(),
            postcode: postcode.to_string(),
        }
    }

    /// One line, as on an envelope window.
    pub fn one_line(&self) -> String {
        let mut parts = vec![self.line1.as_str()];
        if let Some(line2) = &self.line2 {
            parts.push(line2);
        }
        parts.push(&self.town);
        parts.push(&self.postcode);
        parts.join(", ")
    }
}

/// A UK postal address given by a caller.
#[derive(Debug, Clone, InputObject)]
pub struct AddressInput {
    pub line1: String,
    pub line2: Option<String>,
    pub town: String,
    pub postcode: String,
}

const MAX_ADDRESS_LINE: usize = 100;

impl AddressInput {
    /// Check and normalise the address; `field` names the argument in errors (e.g. `address`).
    pub fn validate(&self, field: &str) -> Result<Address, DepartmentError> {
        let line = |name: &str, value: &str| -> Result<String, DepartmentError> {
            let trimmed = value.trim();
            if trimmed.is_empty() || trimmed.chars().count() > MAX_ADDRESS_LINE {
                return Err(DepartmentError::argument(
                    format!("{field}.{name}"),
                    "ADDRESS_LINE_LENGTH",
                    format!("must be 1 to {MAX_ADDRESS_LINE} characters"),
                ));
            }
            Ok(trimmed.to_string())
        };
        let line2 = match self.line2.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(value) => Some(line("line2", value)?),
        };
        Ok(Address {
            line1: line("line1", &self.line1)?,
            line2,
            town: line("town", &self.town)?,
            postcode: parse_argument(&format!("{field}.postcode"), &self.postcode, parse_postcode)?,
        })
    }
}

/// Reject a date after today (a death, a move or an incorporation cannot be in the future).
pub fn not_in_future(field: &str, date: Date) -> Result<NaiveDate, DepartmentError> {
    if date.0 > Utc::now().date_naive() {
        return Err(DepartmentError::argument(
            field,
            "DATE_IN_FUTURE",
            "must not be in the future",
        ));
    }
    Ok(date.0)
}

/// A death notification's arguments, checked: the National Insurance number
/// and a date of death that is not in the future, and the journal request for it.
pub fn death_request(
    nino: &str,
    date_of_death: Date,
) -> Result<(String, NaiveDate, NotificationRequest), DepartmentError> {
    let nino = parse_argument("nino", nino, parse_nino)?;
    let date = not_in_future("dateOfDeath", date_of_death)?;
    let request = NotificationRequest {
        kind: NotificationKind::Death,
        subject: nino.clone(),
        details: format!("dateOfDeath={date}"),
    };
    Ok((nino, date, request))
}

/// A partnership notification's arguments, checked: both partners'
/// National Insurance numbers and the date, and the journal request for it.
pub fn partnership_request(
    first_partner_nino: &str,
    second_partner_nino: &str,
    date: Date,
) -> Result<(String, String, NaiveDate, NotificationRequest), DepartmentError> {
    let first = parse_argument("firstPartnerNino", first_partner_nino, parse_nino)?;
    let second = parse_argument("secondPartnerNino", second_partner_nino, parse_nino)?;
    let since = not_in_future("date", date)?;
    let request = NotificationRequest {
        kind: NotificationKind::MarriageOrCivilPartnership,
        subject: first.clone(),
        details: format!("partner={second}|since={since}"),
    };
    Ok((first, second, since, request))
}

/// The life event a department was told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum NotificationKind {
    Death,
    ChangeOfAddress,
    BusinessRegistered,
    Birth,
    MarriageOrCivilPartnership,
    BusinessCeased,
    ChangeOfName,
}

/// What a notification did to the department's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum NotificationOutcome {
    /// Records were changed; `effects` lists how.
    Applied,
    /// The records already said this (e.g. a second notification of the same death).
    AlreadyUpToDate,
    /// The department holds no record for the subject; nothing to do.
    NoMatchingRecord,
}

/// The department's answer to a notification. Replaying the same idempotency key returns
/// the same receipt.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
#[graphql(shareable)]
pub struct NotificationReceipt {
    pub receipt_id: String,
    pub idempotency_key: String,
    pub kind: NotificationKind,
    /// The identifier the notification was about (NINO or company number).
    pub subject: String,
    pub outcome: NotificationOutcome,
    pub effects: Vec<String>,
    pub applied_at: DateTime<Utc>,
}

/// Every notification a department has applied, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
#[graphql(shareable)]
pub struct NotificationLog {
    /// Distinct idempotency keys received.
    pub count: i32,
    /// Receipts whose outcome was `APPLIED`.
    pub applied_count: i32,
    pub receipts: Vec<NotificationReceipt>,
}
