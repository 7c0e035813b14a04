//! Coercion of request variables to the operation's declared variable types:
//! defaults applied, wrong types refused with BAD_USER_INPUT naming the variable.

use graphql_tools::static_graphql::query::{Type, Value as QueryValue, VariableDefinition};
use serde_json::{Map, Number, Value as Json};

use super::schema_index::{SchemaIndex, TypeKind};

#[derive(Debug, thiserror::Error)]
#[error("Variable \"${variable}\" got invalid value {value}; {reason}")]
pub struct VariableError {
    pub variable: String,
    pub value: String,
    pub reason: String,
}

/// A constant GraphQL literal as JSON (variables resolved from `variables`).
pub fn literal_to_json(value: &QueryValue, variables: &Map<String, Json>) -> Json {
    match value {
        QueryValue::Variable(v) => variables.get(v).cloned().unwrap_or(Json::Null),
        QueryValue::Int(i) => i.as_i64().map(Json::from).unwrap_or(Json::Null),
        QueryValue::Float(f) => Number::from_f64(*f).map(Json::Number).unwrap_or(Json::Null),
        QueryValue::String(s) => Json::String(s.clone()),
        QueryValue::Boolean(b) => Json::Bool(*b),
        QueryValue::Null => Json::Null,
        QueryValue::Enum(e) => Json::String(e.clone()),
        QueryValue::List(items) => Json::Array(
            items
                .iter()
                .map(|i| literal_to_json(i, variables))
                .collect(),
        ),
        QueryValue::Object(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), literal_to_json(v, variables)))
                .collect(),
        ),
    }
}

/// Coerces `provided` against `definitions`.
pub fn coerce_variables(
    definitions: &[VariableDefinition],
    provided: Option<&Map<String, Json>>,
    schema: &SchemaIndex,
) -> Result<Map<String, Json>, VariableError> {
    let empty = Map::new();
    let provided = provided.unwrap_or(&empty);
    let mut out = Map::with_capacity(definitions.len());
    for definition in definitions {
        let name = &definition.name;
        match provided.get(name) {
            Some(value) => {
                let coerced = coerce(value, &definition.var_type, schema).map_err(|reason| {
                    VariableError {
                        variable: name.clone(),
                        value: value.to_string(),
                        reason,
                    }
                })?;
                out.insert(name.clone(), coerced);
            }
            None => {
                if let Some(default) = &definition.default_value {
                    out.insert(name.clone(), literal_to_json(default, &empty));
                } else if matches!(definition.var_type, Type::NonNullType(_)) {
                    return Err(VariableError {
                        variable: name.clone(),
                        value: "null".into(),
                        reason: format!(
                            "a value of non-null type \"{}\" is required",
                            definition.var_type
                        ),
                    });
                }
            }
        }
    }
    Ok(out)
}

fn coerce(value: &Json, ty: &Type, schema: &SchemaIndex) -> Result<Json, String> {
    match ty {
        Type::NonNullType(inner) => {
            if value.is_null() {
                return Err(format!("expected non-null type \"{ty}\""));
            }
            coerce(value, inner, schema)
        }
        Type::ListType(inner) => match value {
            Json::Null => Ok(Json::Null),
            Json::Array(items) => items
                .iter()
                .map(|i| coerce(i, inner, schema))
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            single => Ok(Json::Array(vec![coerce(single, inner, schema)?])),
        },
        Type::NamedType(name) => {
            if value.is_null() {
                return Ok(Json::Null);
            }
            coerce_named(value, name, schema)
        }
    }
}

fn coerce_named(value: &Json, name: &str, schema: &SchemaIndex) -> Result<Json, String> {
    let mismatch = || format!("expected type \"{name}\"");
    match name {
        "Int" => match value.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => Ok(Json::from(i)),
            _ => match value.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() <= f64::from(i32::MAX) => {
                    Ok(Json::from(f as i64))
                }
                _ => Err(mismatch()),
            },
        },
        "Float" => value
            .is_number()
            .then(|| value.clone())
            .ok_or_else(mismatch),
        "String" => match value {
            Json::String(text) => plain_text(text).map(|()| value.clone()),
            _ => Err(mismatch()),
        },
        "Boolean" => value
            .is_boolean()
            .then(|| value.clone())
            .ok_or_else(mismatch),
        "ID" => match value {
            Json::String(text) => plain_text(text).map(|()| value.clone()),
            Json::Number(n) if n.is_i64() || n.is_u64() => Ok(Json::String(n.to_string())),
            _ => Err(mismatch()),
        },
        _ => match schema.get(name) {
            Some(info) => match info.kind {
                TypeKind::Scalar => custom_scalar(name, value).map(|()| value.clone()),
                TypeKind::Enum => match value.as_str() {
                    Some(v) if info.enum_values.contains(v) => Ok(value.clone()),
                    _ => Err(format!("value is not a member of enum \"{name}\"")),
                },
                TypeKind::InputObject => {
                    let Json::Object(fields) = value else {
                        return Err(mismatch());
                    };
                    for key in fields.keys() {
                        if !info.input_fields.iter().any(|f| &f.name == key) {
                            return Err(format!(
                                "field \"{key}\" is not defined by type \"{name}\""
                            ));
                        }
                    }
                    if info.one_of {
                        let given = fields.values().filter(|v| !v.is_null()).count();
                        if given != 1 || fields.len() != 1 {
                            return Err(format!(
                                "exactly one field of \"{name}\" must be given (it is @oneOf); {given} were"
                            ));
                        }
                    }
                    let mut out = Map::with_capacity(info.input_fields.len());
                    for field in &info.input_fields {
                        match fields.get(&field.name) {
                            Some(v) => {
                                let coerced = coerce(v, &field.value_type, schema)
                                    .map_err(|r| format!("at \"{}\": {r}", field.name))?;
                                out.insert(field.name.clone(), coerced);
                            }
                            None => {
                                if let Some(default) = &field.default_value {
                                    out.insert(
                                        field.name.clone(),
                                        literal_to_json(default, &Map::new()),
                                    );
                                } else if matches!(field.value_type, Type::NonNullType(_)) {
                                    return Err(format!(
                                        "field \"{}\" of required type \"{}\" was not provided",
                                        field.name, field.value_type
                                    ));
                                }
                            }
                        }
                    }
                    Ok(Json::Object(out))
                }
                _ => Err(mismatch()),
            },
            None => Err(format!("unknown type \"{name}\"")),
        },
    }
}

/// Text a client may send: no NUL or other C0 control character but tab,
/// line feed and carriage return (they reach department records otherwise).
fn plain_text(text: &str) -> Result<(), String> {
    match text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r') && (*c as u32) < 0x20)
    {
        Some(c) => Err(format!(
            "the string holds the control character U+{:04X}, which is not accepted",
            c as u32
        )),
        None => Ok(()),
    }
}

/// The hub's own scalars are checked at the edge; other custom scalars are
/// the subgraph's to check, but their text must still be plain.
fn custom_scalar(name: &str, value: &Json) -> Result<(), String> {
    match (name, value) {
        ("Date", Json::String(text)) => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(|_| ())
            .map_err(|_| format!("{text:?} is not a Date (YYYY-MM-DD)")),
        ("Date", _) => Err("a Date is a string, YYYY-MM-DD".into()),
        ("DateTime", Json::String(text)) => chrono::DateTime::parse_from_rfc3339(text)
            .map(|_| ())
            .map_err(|_| format!("{text:?} is not a DateTime (RFC 3339)")),
        ("DateTime", _) => Err("a DateTime is an RFC 3339 string".into()),
        (_, value) => strings_plain(value),
    }
}

fn strings_plain(value: &Json) -> Result<(), String> {
    match value {
        Json::String(text) => plain_text(text),
        Json::Array(items) => items.iter().try_for_each(strings_plain),
        Json::Object(fields) => fields
            .iter()
            .try_for_each(|(k, v)| plain_text(k).and_then(|()| strings_plain(v))),
        _ => Ok(()),
    }
}
