//! Input and output rewrites the planner attaches to fetches: `ValueSetter`
//! (e.g. `__typename` set to an `@interfaceObject` interface in
//! representations) and `KeyRenamer` (internal aliases back to response keys).

use crate::gateway::data::Data;
use hive_router_query_planner::planner::plan_nodes::{FetchNodePathSegment, FetchRewrite};

use crate::gateway::schema_index::SchemaIndex;

pub fn apply_all(value: &mut Data, rewrites: &[FetchRewrite], schema: &SchemaIndex) {
    for rewrite in rewrites {
        match rewrite {
            FetchRewrite::ValueSetter(setter) => {
                set_at(value, &setter.path, &setter.set_value_to, schema)
            }
            FetchRewrite::KeyRenamer(renamer) => {
                rename_at(value, &renamer.path, &renamer.rename_key_to, schema)
            }
        }
    }
}

fn typename_matches(
    value: &Data,
    names: &std::collections::BTreeSet<String>,
    schema: &SchemaIndex,
) -> bool {
    match value.get("__typename").and_then(Data::as_str) {
        Some(typename) => names.iter().any(|n| schema.satisfies(typename, n)),
        None => false,
    }
}

fn set_at(value: &mut Data, path: &[FetchNodePathSegment], to: &str, schema: &SchemaIndex) {
    if let Data::Array(items) = value {
        for item in items {
            set_at(item, path, to, schema);
        }
        return;
    }
    match path {
        [] => *value = Data::String(to.into()),
        [FetchNodePathSegment::TypenameEquals(names), rest @ ..] => {
            if typename_matches(value, names, schema) {
                set_at(value, rest, to, schema);
            }
        }
        [FetchNodePathSegment::Key(key), rest @ ..] => {
            if let Data::Object(map) = value {
                if rest.is_empty() {
                    map.insert(key.clone(), Data::String(to.into()));
                } else if let Some(child) = map.get_mut(key) {
                    set_at(child, rest, to, schema);
                }
            }
        }
    }
}

fn rename_at(value: &mut Data, path: &[FetchNodePathSegment], to: &str, schema: &SchemaIndex) {
    if let Data::Array(items) = value {
        for item in items {
            rename_at(item, path, to, schema);
        }
        return;
    }
    match path {
        [] => {}
        [FetchNodePathSegment::TypenameEquals(names), rest @ ..] => {
            if typename_matches(value, names, schema) {
                rename_at(value, rest, to, schema);
            }
        }
        [FetchNodePathSegment::Key(key), rest @ ..] => {
            if let Data::Object(map) = value {
                if rest.is_empty() {
                    if let Some(v) = map.remove(key) {
                        map.insert(to.to_string(), v);
                    }
                } else if let Some(child) = map.get_mut(key) {
                    rename_at(child, rest, to, schema);
                }
            }
        }
    }
}
