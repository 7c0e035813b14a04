//! Life events as typed GraphQL inputs (`LifeEventInput`, one field set,
//! `@oneOf`), their validation at the edge, and their one generic form
//! ([`LifeEvent`]: a type name, the validated fields as JSON, the subject)
//! that routing and delivery work on. A new kind of event is a new input
//! type and a variant here plus routing rules; delivery does not change.

use async_graphql::{
    Enum, InputObject, InputValueError, InputValueResult, OneofObject, Scalar, ScalarType, Value,
};
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value as Json;

use tellonce_identifiers::{
    parse_company_number, parse_eori, parse_nino, parse_postcode, parse_utr, parse_vat_number,
    InvalidIdentifier,
};

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("a date is written YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.format("%Y-%m-%d").to_string())
    }
}

/// A UK postal address.
#[derive(Debug, Clone, InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LifeEventAddressInput {
    pub line1: String,
    pub line2: Option<String>,
    pub town: String,
    pub postcode: String,
}

/// A child's birth, registered by a parent.
#[derive(Debug, Clone, InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BirthEventInput {
    pub child_given_names: String,
    pub child_family_name: String,
    pub date_of_birth: Date,
    /// The registering parent's National Insurance number.
    pub parent_nino: String,
    pub second_parent_nino: Option<String>,
    pub address: LifeEventAddressInput,
}

/// A death.
#[derive(Debug, Clone, InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeathEventInput {
    pub nino: String,
    pub given_names: String,
    pub family_name: String,
    pub date_of_death: Date,
}

/// A move to a new home address.
#[derive(Debug, Clone, InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeOfAddressEventInput {
    pub nino: String,
    pub address: LifeEventAddressInput,
    pub moved_on: Date,
}

/// A change of name (deed poll, marriage, …).
#[derive(Debug, Clone, InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeOfNameEventInput {
    pub nino: String,
    pub new_given_names: String,
    pub new_family_name: String,
    pub effective_on: Date,
}

/// Marriage or civil partnership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PartnershipKind {
    Marriage,
    CivilPartnership,
}

/// A marriage or civil partnership between two people.
#[derive(Debug, Clone, InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnershipEventInput {
    pub kind: PartnershipKind,
    pub first_partner_nino: String,
    pub second_partner_nino: String,
    pub date: Date,
}

/// The legal form of a new business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompanyType {
    PrivateLimitedCompany,
    PublicLimitedCompany,
    LimitedLiabilityPartnership,
    LimitedPartnership,
}

/// A business incorporated or registered.
#[derive(Debug, Clone, InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BusinessRegisteredEventInput {
    pub company_number: String,
    pub company_name: String,
    pub company_type: CompanyType,
    pub incorporated_on: Date,
    pub registered_office: LifeEventAddressInput,
    /// SIC 2007 codes, five digits each.
    #[graphql(default)]
    pub sic_codes: Vec<String>,
    pub vat_number: Option<String>,
    pub eori: Option<String>,
}

/// A business that stopped trading or was dissolved.
#[derive(Debug, Clone, InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BusinessCeasedEventInput {
    pub company_number: String,
    pub ceased_on: Date,
    /// The corporation tax Unique Taxpayer Reference, if known.
    pub utr: Option<String>,
}

/// One life event: set exactly one field.
#[derive(Debug, Clone, OneofObject)]
pub enum LifeEventInput {
    Birth(BirthEventInput),
    Death(DeathEventInput),
    ChangeOfAddress(ChangeOfAddressEventInput),
    ChangeOfName(ChangeOfNameEventInput),
    MarriageOrCivilPartnership(PartnershipEventInput),
    BusinessRegistered(BusinessRegisteredEventInput),
    BusinessCeased(BusinessCeasedEventInput),
}

/// The kind of a life event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
pub enum LifeEventType {
    Birth,
    Death,
    ChangeOfAddress,
    ChangeOfName,
    MarriageOrCivilPartnership,
    BusinessRegistered,
    BusinessCeased,
}

/// Event types and the `LifeEventInput` field that carries each.
const EVENT_TYPES: &[(LifeEventType, &str)] = &[
    (LifeEventType::Birth, "birth"),
    (LifeEventType::Death, "death"),
    (LifeEventType::ChangeOfAddress, "changeOfAddress"),
    (LifeEventType::ChangeOfName, "changeOfName"),
    (
        LifeEventType::MarriageOrCivilPartnership,
        "marriageOrCivilPartnership",
    ),
    (LifeEventType::BusinessRegistered, "businessRegistered"),
    (LifeEventType::BusinessCeased, "businessCeased"),
];

impl LifeEventType {
    /// Every kind of life event.
    pub fn all() -> Vec<LifeEventType> {
        EVENT_TYPES.iter().map(|(t, _)| *t).collect()
    }

    /// The `LifeEventInput` field name, which routing rules use (`death`).
    pub fn input_field(self) -> &'static str {
        EVENT_TYPES
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("", |(_, f)| f)
    }

    /// The type an input field name stands for.
    pub fn from_input_field(field: &str) -> Option<LifeEventType> {
        EVENT_TYPES
            .iter()
            .find(|(_, f)| *f == field)
            .map(|(t, _)| *t)
    }
}

/// Who an event is about: the identifier scheme and its canonical value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub scheme: &'static str,
    pub value: String,
}

impl Subject {
    /// The text the ledger's keyed subject hash is taken over (`nino:AB123456C`).
    pub fn ledger_identifier(&self) -> String {
        format!("{}:{}", self.scheme, self.value)
    }
}

/// A validated life event in the form routing and delivery use.
#[derive(Debug, Clone)]
pub struct LifeEvent {
    pub event_type: LifeEventType,
    /// The event's fields with identifiers in canonical form.
    pub fields: Json,
    pub subject: Subject,
}

/// Why an event is refused at the edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("{field}: {error}")]
    Identifier {
        field: String,
        error: InvalidIdentifier,
    },
    #[error("{field}: {message}")]
    Field {
        field: String,
        rule: &'static str,
        message: &'static str,
    },
}

impl EventError {
    /// The input field at fault, e.g. `event.death.nino`.
    pub fn field(&self) -> &str {
        match self {
            EventError::Identifier { field, .. } | EventError::Field { field, .. } => field,
        }
    }

    /// The rule's code, e.g. `NINO_SUFFIX`.
    pub fn rule(&self) -> &'static str {
        match self {
            EventError::Identifier { error, .. } => error.rule.code(),
            EventError::Field { rule, .. } => rule,
        }
    }
}

/// Checks identifiers in place, naming fields under `prefix`.
struct Checker {
    prefix: String,
}

impl Checker {
    fn id(
        &self,
        name: &str,
        value: &mut String,
        check: fn(&str) -> Result<String, InvalidIdentifier>,
    ) -> Result<(), EventError> {
        *value = check(value).map_err(|error| EventError::Identifier {
            field: format!("{}.{name}", self.prefix),
            error,
        })?;
        Ok(())
    }

    fn opt_id(
        &self,
        name: &str,
        value: &mut Option<String>,
        check: fn(&str) -> Result<String, InvalidIdentifier>,
    ) -> Result<(), EventError> {
        match value {
            Some(v) => self.id(name, v, check),
            None => Ok(()),
        }
    }

    fn text(&self, name: &str, value: &str) -> Result<(), EventError> {
        let len = value.trim().chars().count();
        if len == 0 || len > 200 {
            return Err(EventError::Field {
                field: format!("{}.{name}", self.prefix),
                rule: "TEXT_LENGTH",
                message: "must be 1 to 200 characters",
            });
        }
        Ok(())
    }

    fn past(&self, name: &str, date: Date) -> Result<(), EventError> {
        if date.0 > Utc::now().date_naive() {
            return Err(EventError::Field {
                field: format!("{}.{name}", self.prefix),
                rule: "DATE_IN_FUTURE",
                message: "must not be in the future",
            });
        }
        Ok(())
    }

    fn address(&self, name: &str, a: &mut LifeEventAddressInput) -> Result<(), EventError> {
        let inner = Checker {
            prefix: format!("{}.{name}", self.prefix),
        };
        inner.text("line1", &a.line1)?;
        inner.text("town", &a.town)?;
        inner.id("postcode", &mut a.postcode, parse_postcode)
    }
}

fn to_json<T: Serialize>(value: &T) -> Json {
    serde_json::to_value(value).unwrap_or(Json::Null)
}

impl LifeEventInput {
    /// Validates every identifier and rule of the event; on success the
    /// generic form with identifiers in canonical form.
    pub fn validate(self) -> Result<LifeEvent, EventError> {
        let at = |field: &str| Checker {
            prefix: format!("event.{field}"),
        };
        let nino = |value: &String| Subject {
            scheme: "nino",
            value: value.clone(),
        };
        let company = |value: &String| Subject {
            scheme: "company",
            value: value.clone(),
        };
        let (event_type, fields, subject) = match self {
            LifeEventInput::Birth(mut e) => {
                let c = at("birth");
                c.text("childGivenNames", &e.child_given_names)?;
                c.text("childFamilyName", &e.child_family_name)?;
                c.past("dateOfBirth", e.date_of_birth)?;
                c.id("parentNino", &mut e.parent_nino, parse_nino)?;
                c.opt_id("secondParentNino", &mut e.second_parent_nino, parse_nino)?;
                c.address("address", &mut e.address)?;
                (LifeEventType::Birth, to_json(&e), nino(&e.parent_nino))
            }
            LifeEventInput::Death(mut e) => {
                let c = at("death");
                c.id("nino", &mut e.nino, parse_nino)?;
                c.text("givenNames", &e.given_names)?;
                c.text("familyName", &e.family_name)?;
                c.past("dateOfDeath", e.date_of_death)?;
                (LifeEventType::Death, to_json(&e), nino(&e.nino))
            }
            LifeEventInput::ChangeOfAddress(mut e) => {
                let c = at("changeOfAddress");
                c.id("nino", &mut e.nino, parse_nino)?;
                c.address("address", &mut e.address)?;
                c.past("movedOn", e.moved_on)?;
                (LifeEventType::ChangeOfAddress, to_json(&e), nino(&e.nino))
            }
            LifeEventInput::ChangeOfName(mut e) => {
                let c = at("changeOfName");
                c.id("nino", &mut e.nino, parse_nino)?;
                c.text("newGivenNames", &e.new_given_names)?;
                c.text("newFamilyName", &e.new_family_name)?;
                c.past("effectiveOn", e.effective_on)?;
                (LifeEventType::ChangeOfName, to_json(&e), nino(&e.nino))
            }
            LifeEventInput::MarriageOrCivilPartnership(mut e) => {
                let c = at("marriageOrCivilPartnership");
                c.id("firstPartnerNino", &mut e.first_partner_nino, parse_nino)?;
                c.id("secondPartnerNino", &mut e.second_partner_nino, parse_nino)?;
                c.past("date", e.date)?;
                (
                    LifeEventType::MarriageOrCivilPartnership,
                    to_json(&e),
                    nino(&e.first_partner_nino),
                )
            }
            LifeEventInput::BusinessRegistered(mut e) => {
                let c = at("businessRegistered");
                c.id("companyNumber", &mut e.company_number, parse_company_number)?;
                c.text("companyName", &e.company_name)?;
                c.past("incorporatedOn", e.incorporated_on)?;
                c.address("registeredOffice", &mut e.registered_office)?;
                for (i, code) in e.sic_codes.iter().enumerate() {
                    if code.len() != 5 || !code.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(EventError::Field {
                            field: format!("event.businessRegistered.sicCodes[{i}]"),
                            rule: "SIC_CODE_FORMAT",
                            message: "a SIC 2007 code is five digits",
                        });
                    }
                }
                c.opt_id("vatNumber", &mut e.vat_number, parse_vat_number)?;
                c.opt_id("eori", &mut e.eori, parse_eori)?;
                (
                    LifeEventType::BusinessRegistered,
                    to_json(&e),
                    company(&e.company_number),
                )
            }
            LifeEventInput::BusinessCeased(mut e) => {
                let c = at("businessCeased");
                c.id("companyNumber", &mut e.company_number, parse_company_number)?;
                c.past("ceasedOn", e.ceased_on)?;
                c.opt_id("utr", &mut e.utr, parse_utr)?;
                (
                    LifeEventType::BusinessCeased,
                    to_json(&e),
                    company(&e.company_number),
                )
            }
        };
        Ok(LifeEvent {
            event_type,
            fields,
            subject,
        })
    }
}

impl LifeEventType {
    /// Whether the event happens at most once to its subject (a death, a
    /// business registered or ceased): a second report with other facts
    /// contradicts the first.
    pub fn once_only(self) -> bool {
        matches!(
            self,
            LifeEventType::Death
                | LifeEventType::BusinessRegistered
                | LifeEventType::BusinessCeased
        )
    }
}

impl LifeEvent {
    /// The event's facts as input paths and values (`event.death.dateOfDeath`
    /// → `"2026-01-10"`), nested objects flattened one level.
    pub fn facts(&self) -> Vec<(String, String)> {
        let prefix = format!("event.{}", self.event_type.input_field());
        let mut facts = Vec::new();
        if let Json::Object(fields) = &self.fields {
            for (name, value) in fields {
                match value {
                    Json::Object(inner) => facts.extend(
                        inner
                            .iter()
                            .map(|(n, v)| (format!("{prefix}.{name}.{n}"), v.to_string())),
                    ),
                    _ => facts.push((format!("{prefix}.{name}"), value.to_string())),
                }
            }
        }
        facts
    }

    /// SHA-256 over the event type and its canonical fields: two submissions
    /// are the same event exactly when their hashes are equal.
    pub fn content_hash(&self) -> [u8; 32] {
        let text = format!("{}\n{}", self.event_type.input_field(), self.fields);
        crate::ledger::merkle::sha256(text.as_bytes())
    }
}
