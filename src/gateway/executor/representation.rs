//! One entity's representation for an `_entities` call: the entity's data
//! projected through the fetch's `requires` selection, as JSON text. It is
//! written straight from the data; only when input rewrites apply, or the
//! selection names one key twice (later values replace earlier ones), is it
//! built as a value first.

use crate::gateway::data::{Data, Object};
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::SelectionSet;
use hive_router_query_planner::planner::plan_nodes::FetchRewrite;

use super::rewrites;
use crate::gateway::json_write;
use crate::gateway::schema_index::SchemaIndex;

/// Why writing directly stopped.
enum Stop {
    /// No representation: a needed field is missing.
    Absent,
    /// A key repeats; the value path decides which value wins.
    Repeated,
}

/// Appends the representation of `entity` to `out`; false when it has none
/// (no fragment applies or a needed field is missing).
pub fn write(
    entity: &Object,
    requires: &SelectionSet,
    input_rewrites: &[FetchRewrite],
    schema: &SchemaIndex,
    out: &mut Vec<u8>,
) -> bool {
    let start = out.len();
    if input_rewrites.is_empty() {
        match write_direct(entity, requires, schema, out) {
            Ok(written) => return written,
            Err(Stop::Absent) => {
                out.truncate(start);
                return false;
            }
            Err(Stop::Repeated) => out.truncate(start),
        }
    }
    match as_value(entity, requires, schema) {
        Some(mut value) => {
            rewrites::apply_all(&mut value, input_rewrites, schema);
            json_write::data(out, &value);
            true
        }
        None => false,
    }
}

fn write_direct(
    entity: &Object,
    requires: &SelectionSet,
    schema: &SchemaIndex,
    out: &mut Vec<u8>,
) -> Result<bool, Stop> {
    let typename = entity.typename();
    let mut keys = Vec::new();
    let mut matched = false;
    out.push(b'{');
    for item in &requires.items {
        match item {
            SelectionItem::InlineFragment(fragment) => {
                if typename.is_some_and(|t| schema.satisfies(t, &fragment.type_condition)) {
                    matched = true;
                    write_fields(entity, &fragment.selections.items, schema, out, &mut keys)?;
                }
            }
            SelectionItem::Field(_) => {
                matched = true;
                write_fields(entity, std::slice::from_ref(item), schema, out, &mut keys)?;
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
    out.push(b'}');
    Ok(matched)
}

/// Writes the fields of `items` found in `source`; `keys` are the keys the
/// object already has.
fn write_fields<'s>(
    source: &Object,
    items: &'s [SelectionItem],
    schema: &SchemaIndex,
    out: &mut Vec<u8>,
    keys: &mut Vec<&'s str>,
) -> Result<(), Stop> {
    for item in items {
        match item {
            SelectionItem::Field(field) => {
                // The planner writes internally aliased requirements as
                // `realName: internalAlias`: read the data under the name,
                // send it under the alias.
                let value = source
                    .get(&field.name)
                    .or_else(|| field.alias.as_ref().and_then(|a| source.get(a)))
                    .ok_or(Stop::Absent)?;
                let key = field.selection_identifier();
                if keys.contains(&key) {
                    return Err(Stop::Repeated);
                }
                if !keys.is_empty() {
                    out.push(b',');
                }
                keys.push(key);
                json_write::key(out, key);
                if field.selections.is_empty() {
                    json_write::data(out, value);
                } else {
                    write_value(value, &field.selections, schema, out)?;
                }
            }
            SelectionItem::InlineFragment(fragment) => {
                let applies = source
                    .typename()
                    .is_none_or(|t| schema.satisfies(t, &fragment.type_condition));
                if applies {
                    write_fields(source, &fragment.selections.items, schema, out, keys)?;
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

fn write_value(
    value: &Data,
    selections: &SelectionSet,
    schema: &SchemaIndex,
    out: &mut Vec<u8>,
) -> Result<(), Stop> {
    match value {
        Data::Object(map) => {
            out.push(b'{');
            write_fields(map, &selections.items, schema, out, &mut Vec::new())?;
            out.push(b'}');
        }
        Data::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(item, selections, schema, out)?;
            }
            out.push(b']');
        }
        other => json_write::data(out, other),
    }
    Ok(())
}

/// Projects `entity` through the `requires` selection (`... on T { ... }` at
/// the top). `None` when no fragment applies or a needed field is missing.
fn as_value(entity: &Object, requires: &SelectionSet, schema: &SchemaIndex) -> Option<Data> {
    let mut out = Object::new();
    let mut matched = false;
    let typename = entity.typename();
    for item in &requires.items {
        match item {
            SelectionItem::InlineFragment(fragment) => {
                let applies =
                    typename.is_some_and(|t| schema.satisfies(t, &fragment.type_condition));
                if applies {
                    matched = true;
                    project(entity, &fragment.selections, schema, &mut out)?;
                }
            }
            SelectionItem::Field(_) => {
                matched = true;
                project(
                    entity,
                    &SelectionSet {
                        items: vec![item.clone()],
                    },
                    schema,
                    &mut out,
                )?;
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
    matched.then_some(Data::Object(out))
}

fn project(
    source: &Object,
    selections: &SelectionSet,
    schema: &SchemaIndex,
    out: &mut Object,
) -> Option<()> {
    for item in &selections.items {
        match item {
            SelectionItem::Field(field) => {
                // The planner writes internally aliased requirements as
                // `realName: internalAlias`: read the data under the name,
                // send it under the alias.
                let value = source
                    .get(&field.name)
                    .or_else(|| field.alias.as_ref().and_then(|a| source.get(a)))?;
                let projected = if field.selections.is_empty() {
                    value.clone()
                } else {
                    project_value(value, &field.selections, schema)?
                };
                out.insert(field.selection_identifier().to_string(), projected);
            }
            SelectionItem::InlineFragment(fragment) => {
                let applies = source
                    .typename()
                    .is_none_or(|t| schema.satisfies(t, &fragment.type_condition));
                if applies {
                    project(source, &fragment.selections, schema, out)?;
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
    Some(())
}

fn project_value(value: &Data, selections: &SelectionSet, schema: &SchemaIndex) -> Option<Data> {
    match value {
        Data::Object(map) => {
            let mut out = Object::new();
            project(map, selections, schema, &mut out)?;
            Some(Data::Object(out))
        }
        Data::Array(items) => items
            .iter()
            .map(|i| project_value(i, selections, schema))
            .collect::<Option<Vec<_>>>()
            .map(Data::Array),
        other => Some(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use graphql_tools::static_graphql::query::{Definition, OperationDefinition};
    use hive_router_query_planner::ast::selection_set::SelectionSet;
    use hive_router_query_planner::utils::parsing::{safe_parse_operation, safe_parse_schema};
    use serde_json::{json, Value};

    use crate::gateway::data::Data;
    use crate::gateway::schema_index::SchemaIndex;

    fn schema() -> SchemaIndex {
        let sdl = "type Query { p: Product } type Product { upc: ID! dims: Dims tags: [Tag] } \
                   type Dims { w: Int h: Int } type Tag { name: String }";
        SchemaIndex::from_document(Arc::new(safe_parse_schema(sdl).expect("sdl")))
    }

    fn requires(text: &str) -> SelectionSet {
        let document = safe_parse_operation(text).expect("selection");
        match document.definitions.into_iter().next() {
            Some(Definition::Operation(OperationDefinition::SelectionSet(set))) => set.into(),
            _ => panic!("not a selection set"),
        }
    }

    /// The written text, checked against the value path.
    fn written(selection: &str, entity: Value) -> Option<String> {
        let Data::Object(entity) = Data::from(&entity) else {
            panic!("not an object");
        };
        let (schema, requires) = (schema(), requires(selection));
        let mut out = Vec::new();
        let wrote = super::write(&entity, &requires, &[], &schema, &mut out);
        let expected = super::as_value(&entity, &requires, &schema).map(|v| v.to_string());
        let text = wrote.then(|| String::from_utf8(out).unwrap_or_default());
        assert_eq!(text, expected);
        text
    }

    #[test]
    fn writes_the_required_fields_in_selection_order() {
        let entity = json!({
            "upc": "1\"2", "__typename": "Product", "name": "x",
            "dims": {"h": 2, "w": 1, "d": 3},
            "tags": [{"name": "a", "id": 1}, null, {"name": "b"}]
        });
        assert_eq!(
            written(
                "{ ... on Product { __typename upc dims { w h } tags { name } } }",
                entity
            )
            .as_deref(),
            Some(
                r#"{"__typename":"Product","upc":"1\"2","dims":{"w":1,"h":2},"tags":[{"name":"a"},null,{"name":"b"}]}"#
            )
        );
    }

    #[test]
    fn a_missing_field_or_no_matching_fragment_means_no_representation() {
        let entity = json!({"__typename": "Product", "upc": "1"});
        assert_eq!(
            written("{ ... on Product { upc dims { w } } }", entity.clone()),
            None
        );
        assert_eq!(written("{ ... on Other { upc } }", entity), None);
    }

    #[test]
    fn a_repeated_key_gives_what_the_value_path_gives() {
        let entity = json!({"__typename": "Product", "upc": "1", "dims": {"w": 1, "h": 2}});
        assert_eq!(
            written(
                "{ ... on Product { upc dims { w } } ... on Product { dims { h } } }",
                entity
            )
            .as_deref(),
            Some(r#"{"upc":"1","dims":{"h":2}}"#)
        );
    }
}
