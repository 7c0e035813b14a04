//! Deep merge of subgraph data into the response being assembled.

use serde_json::Value as Json;

use crate::gateway::json_lookup;
use crate::gateway::schema_index::SchemaIndex;

/// Merges `source` into `target`. Objects merge key by key, equal-length lists
/// element by element; a null never overwrites a value. An existing
/// `__typename` is kept unless it names an abstract type (an
/// `@interfaceObject` placeholder), which the concrete name replaces.
pub fn deep_merge(target: &mut Json, source: Json, schema: &SchemaIndex) {
    match (target, source) {
        (Json::Object(t), Json::Object(s)) => {
            for (key, value) in s {
                match json_lookup::get_mut(t, &key) {
                    Some(existing) => {
                        if key == "__typename" {
                            let placeholder = existing
                                .as_str()
                                .is_some_and(|name| schema.is_abstract(name));
                            if placeholder && value.is_string() {
                                *existing = value;
                            }
                        } else {
                            deep_merge(existing, value, schema);
                        }
                    }
                    None => {
                        t.insert(key, value);
                    }
                }
            }
        }
        (Json::Array(t), Json::Array(s)) if t.len() == s.len() => {
            for (existing, value) in t.iter_mut().zip(s) {
                deep_merge(existing, value, schema);
            }
        }
        (_, Json::Null) => {}
        (t, s) => *t = s,
    }
}
