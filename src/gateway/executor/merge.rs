//! Deep merge of subgraph data into the response being assembled.

use crate::gateway::data::Data;
use crate::gateway::schema_index::SchemaIndex;

/// Whether an incoming `__typename` replaces the existing one: only a
/// concrete name over an abstract one (an `@interfaceObject` placeholder).
fn replaces_typename(existing: &Data, incoming: &Data, schema: &SchemaIndex) -> bool {
    incoming.is_string()
        && existing
            .as_str()
            .is_some_and(|name| schema.is_abstract(name))
}

/// Merges `source` into `target`. Objects merge key by key, equal-length lists
/// element by element; a null never overwrites a value. An existing
/// `__typename` is kept unless it names an abstract type (an
/// `@interfaceObject` placeholder), which the concrete name replaces.
pub fn deep_merge(target: &mut Data, source: Data, schema: &SchemaIndex) {
    match (target, source) {
        (Data::Object(t), Data::Object(s)) => {
            for (key, value) in s {
                match t.get_mut(&key) {
                    Some(existing) => {
                        if key == "__typename" {
                            if replaces_typename(existing, &value, schema) {
                                *existing = value;
                            }
                        } else {
                            deep_merge(existing, value, schema);
                        }
                    }
                    None => t.append_absent(key, value),
                }
            }
        }
        (Data::Array(t), Data::Array(s)) if t.len() == s.len() => {
            for (existing, value) in t.iter_mut().zip(s) {
                deep_merge(existing, value, schema);
            }
        }
        (_, Data::Null) => {}
        (t, s) => *t = s,
    }
}

/// As [`deep_merge`], from a borrowed `source`: only what `target` takes is
/// copied (one `_entities` result merged into every object that sent the
/// same representation is never cloned whole).
pub fn deep_merge_ref(target: &mut Data, source: &Data, schema: &SchemaIndex) {
    match (target, source) {
        (Data::Object(t), Data::Object(s)) => {
            for (key, value) in s.iter() {
                match t.get_mut(key) {
                    Some(existing) => {
                        if key == "__typename" {
                            if replaces_typename(existing, value, schema) {
                                *existing = value.clone();
                            }
                        } else {
                            deep_merge_ref(existing, value, schema);
                        }
                    }
                    None => t.append_absent(key.to_string(), value.clone()),
                }
            }
        }
        (Data::Array(t), Data::Array(s)) if t.len() == s.len() => {
            for (existing, value) in t.iter_mut().zip(s) {
                deep_merge_ref(existing, value, schema);
            }
        }
        (_, Data::Null) => {}
        (t, s) => *t = s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use hive_router_query_planner::utils::parsing::safe_parse_schema;
    use serde_json::json;

    use super::{deep_merge, deep_merge_ref};
    use crate::gateway::data::Data;
    use crate::gateway::schema_index::SchemaIndex;

    #[test]
    fn merging_a_borrowed_source_equals_merging_an_owned_one() {
        let sdl = "type Query { n: Node } interface Node { id: ID! } \
                   type P implements Node { id: ID! }";
        let schema = SchemaIndex::from_document(Arc::new(safe_parse_schema(sdl).expect("sdl")));
        let target = Data::from(&json!({
            "__typename": "Node", "id": "1", "keep": 1, "kept": "x",
            "list": [{"a": 1}, {"a": 2}], "short": [1], "nested": {"x": 1}
        }));
        let source = Data::from(&json!({
            "__typename": "P", "kept": null, "new": [1, 2],
            "list": [{"b": 1}, {"b": 2}], "short": [3, 4], "nested": {"y": {"z": true}}
        }));
        let mut owned = target.clone();
        deep_merge(&mut owned, source.clone(), &schema);
        let mut borrowed = target;
        deep_merge_ref(&mut borrowed, &source, &schema);
        assert_eq!(borrowed, owned);
        let borrowed = borrowed.to_json();
        assert_eq!(borrowed["__typename"], json!("P"));
        assert_eq!(
            borrowed["list"],
            json!([{"a": 1, "b": 1}, {"a": 2, "b": 2}])
        );
        assert_eq!(borrowed["short"], json!([3, 4]));
    }
}
