//! The hub's consignment input checked cheaply (the hub has validated it fully) and parsed
//! into a [`Consignment`]. Fields no rule reads (location of goods, transport mode, GMR, item
//! descriptions, quantities and gross masses) are checked, then dropped. A refusal names the
//! field as `consignment.<field>`, e.g. `consignment.items[2].commodityCode`.

use super::consignment::{Consignment, Item};
use super::protocol::{ConsignmentAssessmentInput, ConsignmentItemInput};
use crate::department_error::{parse_argument, DepartmentError};
use crate::identifiers::parse_eori;
use chrono::{DateTime, Datelike, Utc};

/// Most item lines one consignment may carry (as a customs declaration).
pub const MAX_ITEMS: usize = 999;
/// Most trader flags one consignment may carry.
pub const MAX_TRADER_FLAGS: usize = 20;
/// Longest free text (descriptions, references) accepted, in characters.
const MAX_TEXT_CHARS: usize = 512;

impl ConsignmentAssessmentInput {
    /// The consignment, or the first field that breaks a rule.
    pub fn validate(self) -> Result<Consignment, DepartmentError> {
        let reference = text("consignment.reference", &self.reference)?;
        let declarant = parse_argument("consignment.declarant", &self.declarant, parse_eori)?;
        let importer = parse_argument("consignment.importer", &self.importer, parse_eori)?;
        let exporter = optional(self.exporter.as_deref())
            .map(|eori| foreign_eori("consignment.exporter", eori))
            .transpose()?;
        let origin_country = country("consignment.originCountry", &self.origin_country)?;
        let dispatch_country = country("consignment.dispatchCountry", &self.dispatch_country)?;
        let procedure_code = self.procedure_code.trim().to_string();
        if procedure_code.len() != 4 || !procedure_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DepartmentError::argument(
                "consignment.procedureCode",
                "PROCEDURE_CODE_FORMAT",
                "a customs procedure code is 4 digits, e.g. 4000",
            ));
        }
        text("consignment.locationOfGoods", &self.location_of_goods)?;
        let port_of_entry = self.port_of_entry.trim().to_ascii_uppercase();
        if port_of_entry.len() != 5 || !port_of_entry.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(DepartmentError::argument(
                "consignment.portOfEntry",
                "UN_LOCODE_FORMAT",
                "a port is named by its UN/LOCODE: country and three letters, e.g. GBDOV",
            ));
        }
        let border_control_post = optional(self.border_control_post.as_deref())
            .map(|code| place_code("consignment.borderControlPost", code))
            .transpose()?;
        let arrives_at = arrival("consignment.arrivesAt", &self.arrives_at)?;
        transport_mode("consignment.transportMode", &self.transport_mode)?;
        if let Some(gmr) = optional(self.goods_movement_reference.as_deref()) {
            text("consignment.goodsMovementReference", gmr)?;
        }
        let ched_reference = optional(self.ched_reference.as_deref())
            .map(|ched| text("consignment.chedReference", ched))
            .transpose()?
            .map(|ched| ched.to_ascii_uppercase());
        let trader_flags = trader_flags(&self.trader_flags)?;
        if self.items.is_empty() || self.items.len() > MAX_ITEMS {
            return Err(DepartmentError::argument(
                "consignment.items",
                "ITEM_COUNT",
                format!("a consignment has 1 to {MAX_ITEMS} item lines"),
            ));
        }
        let mut items: Vec<Item> = Vec::with_capacity(self.items.len());
        for (index, input) in self.items.into_iter().enumerate() {
            let item = item(index, input)?;
            if items.iter().any(|other| other.line == item.line) {
                return Err(DepartmentError::argument(
                    format!("consignment.items[{index}].line"),
                    "LINE_REPEATED",
                    format!("line {} is declared twice", item.line),
                ));
            }
            items.push(item);
        }
        Ok(Consignment {
            reference,
            declarant,
            importer,
            exporter,
            origin_country,
            dispatch_country,
            procedure_code,
            port_of_entry,
            border_control_post,
            arrives_at,
            ched_reference,
            trader_flags,
            items,
        })
    }
}

fn item(index: usize, input: ConsignmentItemInput) -> Result<Item, DepartmentError> {
    let field = |name: &str| format!("consignment.items[{index}].{name}");
    if !(1..=MAX_ITEMS as i32).contains(&input.line) {
        return Err(DepartmentError::argument(
            field("line"),
            "LINE_RANGE",
            format!("item lines are numbered 1 to {MAX_ITEMS}"),
        ));
    }
    let commodity_code = input.commodity_code.trim().replace(' ', "");
    if !matches!(commodity_code.len(), 8 | 10)
        || !commodity_code.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(DepartmentError::argument(
            field("commodityCode"),
            "COMMODITY_CODE_FORMAT",
            "a commodity code is 8 or 10 digits",
        ));
    }
    text(&field("description"), &input.description)?;
    if input.quantity < 0 {
        return Err(DepartmentError::argument(
            field("quantity"),
            "QUANTITY_RANGE",
            "the quantity cannot be negative",
        ));
    }
    for (name, value) in [
        ("netMassKg", input.net_mass_kg),
        ("grossMassKg", input.gross_mass_kg),
        ("valueGbp", input.value_gbp),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(DepartmentError::argument(
                field(name),
                "NUMBER_RANGE",
                "must be a finite number, at least 0",
            ));
        }
    }
    Ok(Item {
        line: input.line,
        commodity_code,
        net_mass_kg: input.net_mass_kg,
        value_gbp: input.value_gbp,
    })
}

/// An optional text input; blank counts as absent.
fn optional(input: Option<&str>) -> Option<&str> {
    input.map(str::trim).filter(|value| !value.is_empty())
}

/// Non-blank text of at most [`MAX_TEXT_CHARS`] characters, trimmed.
fn text(field: &str, input: &str) -> Result<String, DepartmentError> {
    let value = input.trim();
    if value.is_empty() || value.chars().count() > MAX_TEXT_CHARS {
        return Err(DepartmentError::argument(
            field,
            "TEXT_LENGTH",
            format!("must be 1 to {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(value.to_string())
}

fn country(field: &str, input: &str) -> Result<String, DepartmentError> {
    let code = input.trim().to_ascii_uppercase();
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(DepartmentError::argument(
            field,
            "COUNTRY_CODE_FORMAT",
            "a country is its ISO 3166-1 alpha-2 code, e.g. FR",
        ));
    }
    Ok(code)
}

/// An exporter's EORI from any country: two letters, then up to 15 letters or digits.
fn foreign_eori(field: &str, input: &str) -> Result<String, DepartmentError> {
    let eori: String = input
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let well_formed = (3..=17).contains(&eori.len())
        && eori.bytes().take(2).all(|b| b.is_ascii_uppercase())
        && eori.bytes().skip(2).all(|b| b.is_ascii_alphanumeric());
    if !well_formed {
        return Err(DepartmentError::argument(
            field,
            "EORI_FORMAT",
            "an EORI number is a country code and up to 15 letters or digits",
        ));
    }
    Ok(eori)
}

fn place_code(field: &str, input: &str) -> Result<String, DepartmentError> {
    let code = input.to_ascii_uppercase();
    if !(5..=8).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(DepartmentError::argument(
            field,
            "BORDER_CONTROL_POST_FORMAT",
            "a Border Control Post is a place code and a digit, e.g. GBSEV1",
        ));
    }
    Ok(code)
}

fn arrival(field: &str, input: &str) -> Result<DateTime<Utc>, DepartmentError> {
    let parsed = DateTime::parse_from_rfc3339(input.trim()).map_err(|error| {
        DepartmentError::argument(
            field,
            "TIMESTAMP_FORMAT",
            format!("must be an RFC 3339 timestamp, e.g. 2026-12-03T08:15:00Z ({error})"),
        )
    })?;
    let at = parsed.with_timezone(&Utc);
    // Also keeps every window computed from it far inside chrono's range.
    if !(2000..=2100).contains(&at.year()) {
        return Err(DepartmentError::argument(
            field,
            "TIMESTAMP_RANGE",
            "must be in the years 2000 to 2100",
        ));
    }
    Ok(at)
}

fn transport_mode(field: &str, input: &str) -> Result<(), DepartmentError> {
    match input.trim().to_ascii_uppercase().as_str() {
        "ROAD" | "SEA" | "AIR" | "RAIL" => Ok(()),
        _ => Err(DepartmentError::argument(
            field,
            "TRANSPORT_MODE_UNKNOWN",
            "must be ROAD, SEA, AIR or RAIL",
        )),
    }
}

fn trader_flags(input: &[String]) -> Result<Vec<String>, DepartmentError> {
    if input.len() > MAX_TRADER_FLAGS {
        return Err(DepartmentError::argument(
            "consignment.traderFlags",
            "TRADER_FLAG_COUNT",
            format!("at most {MAX_TRADER_FLAGS} flags"),
        ));
    }
    let mut flags: Vec<String> = Vec::with_capacity(input.len());
    for (index, flag) in input.iter().enumerate() {
        let flag = text(&format!("consignment.traderFlags[{index}]"), flag)?.to_ascii_uppercase();
        if !flags.contains(&flag) {
            flags.push(flag);
        }
    }
    Ok(flags)
}
