//! A consignment declaration as the declarant sends it
//! ([`ConsignmentDeclarationInput`]) and as the hub keeps it and sends it to
//! the agencies ([`Declaration`]), with the checks between the two: every
//! identifier, code, country, place, quantity, weight, value and date. A
//! refused declaration names the field and the rule it breaks.

use async_graphql::{Enum, InputObject};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tellonce_identifiers::parse_eori;

use super::agencies::AgencyRegistry;
use super::countries::is_country;
use super::places::Places;

/// Most item lines one declaration may carry (CDS allows 999).
pub const MAX_ITEMS: usize = 999;
/// Most trader flags one declaration may carry.
pub const MAX_TRADER_FLAGS: usize = 20;
/// How far ahead of its arrival a consignment may be declared.
pub const MAX_DAYS_AHEAD: i64 = 90;
/// How long after its arrival a consignment may still be declared.
pub const MAX_DAYS_LATE: i64 = 1;

/// How the goods cross the border.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[graphql(name = "DeclaredTransportMode")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeclaredTransportMode {
    Road,
    Sea,
    Air,
    Rail,
}

/// One line of goods.
#[derive(Debug, Clone, InputObject)]
pub struct ConsignmentItemInput {
    /// The 8- or 10-digit commodity code.
    pub commodity_code: String,
    pub description: String,
    /// Units: head of animals, packages, pieces.
    pub quantity: i32,
    pub net_mass_kg: f64,
    pub gross_mass_kg: f64,
    /// The customs value in pounds sterling.
    pub value_gbp: f64,
}

/// A consignment declared once for every agency acting at the border.
#[derive(Debug, Clone, InputObject)]
pub struct ConsignmentDeclarationInput {
    /// The declarant's EORI number.
    pub declarant: String,
    /// The importer's EORI number.
    pub importer: String,
    /// The exporter's EORI number, when it has one.
    pub exporter: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub origin_country: String,
    /// ISO 3166-1 alpha-2.
    pub dispatch_country: String,
    /// The 4-digit customs procedure code, e.g. `4000` (release for free circulation).
    pub procedure_code: String,
    /// Where the goods are, e.g. `GB/A/U/DVRDOVDVR` (country, type, qualifier, identifier).
    pub location_of_goods: String,
    /// The UN/LOCODE of the port of entry, e.g. `GBDOV`.
    pub port_of_entry: String,
    /// The Border Control Post the goods are to be checked at, e.g. `GBSEV1`.
    pub border_control_post: Option<String>,
    pub arrives_at: DateTime<Utc>,
    pub transport_mode: DeclaredTransportMode,
    /// The GVMS goods movement reference the lorry is called in by.
    pub goods_movement_reference: Option<String>,
    /// The IPAFFS pre-notification (CHED) reference.
    pub ched_reference: Option<String>,
    /// Authorisations and licences the trader holds (see `borderAgencies`' trader flags).
    #[graphql(default)]
    pub trader_flags: Vec<String>,
    pub items: Vec<ConsignmentItemInput>,
}

/// A validated item line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeclaredItem {
    pub line: i32,
    pub commodity_code: String,
    pub description: String,
    pub quantity: i32,
    pub net_mass_kg: f64,
    pub gross_mass_kg: f64,
    pub value_gbp: f64,
}

/// A validated declaration: canonical identifiers and codes, as stored and
/// as sent to each agency (with the consignment's reference).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Declaration {
    pub declarant: String,
    pub importer: String,
    pub exporter: Option<String>,
    pub origin_country: String,
    pub dispatch_country: String,
    pub procedure_code: String,
    pub location_of_goods: String,
    pub port_of_entry: String,
    pub border_control_post: Option<String>,
    pub arrives_at: DateTime<Utc>,
    pub transport_mode: DeclaredTransportMode,
    pub goods_movement_reference: Option<String>,
    pub ched_reference: Option<String>,
    pub trader_flags: Vec<String>,
    pub items: Vec<DeclaredItem>,
}

impl Declaration {
    /// SHA-256 of the canonical JSON: one declaration, one hash.
    pub fn content_hash(&self) -> [u8; 32] {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(&bytes).into()
    }
}

/// A declaration refused: which field, which rule, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DeclarationError {
    /// The input path, e.g. `declaration.items[1].commodityCode`.
    pub field: String,
    /// A stable name of the rule, e.g. `COMMODITY_CODE_FORMAT`.
    pub rule: &'static str,
    pub message: String,
}

fn refuse(
    field: impl Into<String>,
    rule: &'static str,
    message: impl Into<String>,
) -> DeclarationError {
    DeclarationError {
        field: format!("declaration.{}", field.into()),
        rule,
        message: message.into(),
    }
}

fn eori(field: &str, value: &str) -> Result<String, DeclarationError> {
    parse_eori(value).map_err(|e| refuse(field, "EORI_FORMAT", e.to_string()))
}

fn country(field: &str, value: &str) -> Result<String, DeclarationError> {
    let code = value.trim().to_ascii_uppercase();
    if is_country(&code) {
        Ok(code)
    } else {
        Err(refuse(
            field,
            "ISO_3166_ALPHA2",
            format!("{value:?} is not an ISO 3166-1 alpha-2 country code"),
        ))
    }
}

fn upper_alphanumeric(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// `CHEDA.GB.2026.1234567`: the CHED type (A, P, PP, D), GB, the year, seven digits.
fn is_ched_reference(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    matches!(parts.as_slice(), [kind, "GB", year, number]
        if matches!(*kind, "CHEDA" | "CHEDP" | "CHEDPP" | "CHEDD")
            && year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit())
            && number.len() == 7 && number.bytes().all(|b| b.is_ascii_digit()))
}

/// `GMRA00002KW2`: GMR, then nine capital letters or digits.
fn is_goods_movement_reference(text: &str) -> bool {
    text.len() == 12 && text.starts_with("GMR") && upper_alphanumeric(text)
}

impl ConsignmentDeclarationInput {
    /// Checks every field; `now` bounds the arrival date.
    pub fn validate(
        self,
        places: &Places,
        agencies: &AgencyRegistry,
        now: DateTime<Utc>,
    ) -> Result<Declaration, DeclarationError> {
        let declarant = eori("declarant", &self.declarant)?;
        let importer = eori("importer", &self.importer)?;
        let exporter = self
            .exporter
            .as_deref()
            .map(|e| eori("exporter", e))
            .transpose()?;
        let origin_country = country("originCountry", &self.origin_country)?;
        let dispatch_country = country("dispatchCountry", &self.dispatch_country)?;
        let procedure_code = self.procedure_code.trim().to_owned();
        if procedure_code.len() != 4 || !procedure_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse(
                "procedureCode",
                "PROCEDURE_CODE_FORMAT",
                "a customs procedure code is 4 digits, e.g. 4000",
            ));
        }
        let port_of_entry = self.port_of_entry.trim().to_ascii_uppercase();
        if port_of_entry.len() != 5 || !upper_alphanumeric(&port_of_entry) {
            return Err(refuse(
                "portOfEntry",
                "UN_LOCODE_FORMAT",
                "a port is named by its UN/LOCODE: country and three letters, e.g. GBDOV",
            ));
        }
        if places.port(&port_of_entry).is_none() {
            return Err(refuse(
                "portOfEntry",
                "PORT_UNKNOWN",
                format!("{port_of_entry} is not a UK port of entry the hub knows"),
            ));
        }
        let location_of_goods = self.location_of_goods.trim().to_ascii_uppercase();
        check_location_of_goods(&location_of_goods, &port_of_entry)?;
        let border_control_post = match self.border_control_post.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(code) => {
                let code = code.to_ascii_uppercase();
                let post = places.border_control_post(&code).ok_or_else(|| {
                    refuse(
                        "borderControlPost",
                        "BORDER_CONTROL_POST_UNKNOWN",
                        format!("{code} is not a Border Control Post the hub knows"),
                    )
                })?;
                if !post.serves.contains(&port_of_entry) {
                    return Err(refuse(
                        "borderControlPost",
                        "BORDER_CONTROL_POST_PORT",
                        format!("{} does not serve {port_of_entry}", post.name),
                    ));
                }
                Some(code)
            }
        };
        if self.arrives_at < now - Duration::days(MAX_DAYS_LATE)
            || self.arrives_at > now + Duration::days(MAX_DAYS_AHEAD)
        {
            return Err(refuse("arrivesAt", "ARRIVAL_DATE_RANGE", format!("the arrival must be within {MAX_DAYS_LATE} day before and {MAX_DAYS_AHEAD} days after now")));
        }
        let goods_movement_reference = match self.goods_movement_reference.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(gmr) if is_goods_movement_reference(gmr) => Some(gmr.to_owned()),
            Some(_) => return Err(refuse("goodsMovementReference", "GMR_FORMAT", "a GVMS goods movement reference is GMR and nine capital letters or digits, e.g. GMRA00002KW2")),
        };
        let ched_reference = match self.ched_reference.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(ched) if is_ched_reference(ched) => Some(ched.to_owned()),
            Some(_) => return Err(refuse("chedReference", "CHED_FORMAT", "an IPAFFS CHED reference is CHEDA, CHEDP, CHEDPP or CHEDD, GB, the year and seven digits, e.g. CHEDA.GB.2026.1234567")),
        };
        if self.trader_flags.len() > MAX_TRADER_FLAGS {
            return Err(refuse(
                "traderFlags",
                "TRADER_FLAG_COUNT",
                format!("at most {MAX_TRADER_FLAGS} flags"),
            ));
        }
        let mut trader_flags = Vec::with_capacity(self.trader_flags.len());
        for (i, flag) in self.trader_flags.iter().enumerate() {
            let flag = flag.trim().to_owned();
            if !agencies.is_trader_flag(&flag) {
                return Err(refuse(
                    format!("traderFlags[{i}]"),
                    "TRADER_FLAG_UNKNOWN",
                    format!("{flag:?} is not a trader flag the hub knows (see borderAgencies)"),
                ));
            }
            if !trader_flags.contains(&flag) {
                trader_flags.push(flag);
            }
        }
        if self.items.is_empty() || self.items.len() > MAX_ITEMS {
            return Err(refuse(
                "items",
                "ITEM_COUNT",
                format!("a declaration has 1 to {MAX_ITEMS} item lines"),
            ));
        }
        let items = self
            .items
            .into_iter()
            .enumerate()
            .map(|(i, item)| check_item(i, item))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Declaration {
            declarant,
            importer,
            exporter,
            origin_country,
            dispatch_country,
            procedure_code,
            location_of_goods,
            port_of_entry,
            border_control_post,
            arrives_at: self.arrives_at,
            transport_mode: self.transport_mode,
            goods_movement_reference,
            ched_reference,
            trader_flags,
            items,
        })
    }
}

/// `GB/A/U/DVRDOVDVR`: country GB, type A–D, qualifier U (UN/LOCODE), and
/// an identifier of nine whose middle three are the port's location code.
fn check_location_of_goods(location: &str, port: &str) -> Result<(), DeclarationError> {
    let field = "locationOfGoods";
    let parts: Vec<&str> = location.split('/').collect();
    let [country, kind, qualifier, identifier] = parts.as_slice() else {
        return Err(refuse(
            field,
            "LOCATION_OF_GOODS_FORMAT",
            "the location of goods is country/type/qualifier/identifier, e.g. GB/A/U/DVRDOVDVR",
        ));
    };
    if *country != "GB" || !matches!(*kind, "A" | "B" | "C" | "D") || *qualifier != "U" {
        return Err(refuse(field, "LOCATION_OF_GOODS_FORMAT", "the location of goods starts GB, a type A to D and the qualifier U (UN/LOCODE), e.g. GB/A/U/DVRDOVDVR"));
    }
    if identifier.len() != 9 || !upper_alphanumeric(identifier) {
        return Err(refuse(
            field,
            "LOCATION_OF_GOODS_FORMAT",
            "the location's identifier is nine capital letters or digits, e.g. DVRDOVDVR",
        ));
    }
    if identifier.get(3..6) != port.get(2..5) {
        return Err(refuse(
            field,
            "LOCATION_OF_GOODS_PORT",
            format!("the location {location} is not at the port of entry {port}"),
        ));
    }
    Ok(())
}

fn check_item(index: usize, item: ConsignmentItemInput) -> Result<DeclaredItem, DeclarationError> {
    let at = |name: &str| format!("items[{index}].{name}");
    let code = item.commodity_code.trim().replace(' ', "");
    if !matches!(code.len(), 8 | 10) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse(
            at("commodityCode"),
            "COMMODITY_CODE_FORMAT",
            "a commodity code is 8 or 10 digits",
        ));
    }
    let chapter: u32 = code[..2].parse().unwrap_or(0);
    if !(1..=97).contains(&chapter) || chapter == 77 {
        return Err(refuse(
            at("commodityCode"),
            "COMMODITY_CODE_CHAPTER",
            format!("chapter {:02} is not in the tariff (01–97, no 77)", chapter),
        ));
    }
    let description = item.description.trim().to_owned();
    if description.is_empty() || description.chars().count() > 512 {
        return Err(refuse(
            at("description"),
            "DESCRIPTION_LENGTH",
            "a description is 1 to 512 characters",
        ));
    }
    if item.quantity < 1 {
        return Err(refuse(
            at("quantity"),
            "QUANTITY_POSITIVE",
            "the quantity is at least 1",
        ));
    }
    let positive = |v: f64| v.is_finite() && v > 0.0 && v < 1e9;
    if !positive(item.net_mass_kg) {
        return Err(refuse(
            at("netMassKg"),
            "MASS_RANGE",
            "the net mass is above 0 and below a million tonnes",
        ));
    }
    if !positive(item.gross_mass_kg) {
        return Err(refuse(
            at("grossMassKg"),
            "MASS_RANGE",
            "the gross mass is above 0 and below a million tonnes",
        ));
    }
    if item.gross_mass_kg < item.net_mass_kg {
        return Err(refuse(
            at("grossMassKg"),
            "GROSS_BELOW_NET",
            "the gross mass (with packaging) cannot be below the net mass",
        ));
    }
    if !(item.value_gbp.is_finite() && item.value_gbp >= 0.0 && item.value_gbp < 1e12) {
        return Err(refuse(
            at("valueGbp"),
            "VALUE_RANGE",
            "the value is at least 0 and below a trillion pounds",
        ));
    }
    Ok(DeclaredItem {
        line: i32::try_from(index + 1).unwrap_or(i32::MAX),
        commodity_code: code,
        description,
        quantity: item.quantity,
        net_mass_kg: item.net_mass_kg,
        gross_mass_kg: item.gross_mass_kg,
        value_gbp: item.value_gbp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_have_their_published_shapes() {
        assert!(is_ched_reference("CHEDA.GB.2026.1234567"));
        assert!(is_ched_reference("CHEDPP.GB.2026.0000001"));
        assert!(!is_ched_reference("CHEDX.GB.2026.1234567"));
        assert!(!is_ched_reference("CHEDA.FR.2026.1234567"));
        assert!(is_goods_movement_reference("GMRA00002KW2"));
        assert!(!is_goods_movement_reference("GMR123"));
        assert!(check_location_of_goods("GB/A/U/DVRDOVDVR", "GBDOV").is_ok());
        assert_eq!(
            check_location_of_goods("GB/A/U/FXTFXTFXT", "GBDOV").map_err(|e| e.rule),
            Err("LOCATION_OF_GOODS_PORT")
        );
        assert_eq!(
            check_location_of_goods("GBAUDVRDOVDVR", "GBDOV").map_err(|e| e.rule),
            Err("LOCATION_OF_GOODS_FORMAT")
        );
    }
}
