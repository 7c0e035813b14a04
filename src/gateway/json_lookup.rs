//! Key look-ups in the JSON objects subgraphs return. They hold a handful of
//! keys, so comparing the keys in order is cheaper than hashing the one asked
//! for (the map's hasher is SipHash); larger objects still use the index.

use serde_json::{Map, Value as Json};

/// Objects up to this many keys are scanned instead of hashed.
const SCAN_LIMIT: usize = 16;

/// The value under `key`, if any.
pub fn get<'m>(map: &'m Map<String, Json>, key: &str) -> Option<&'m Json> {
    if map.len() <= SCAN_LIMIT {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// The value under `key`, mutably, if any.
pub fn get_mut<'m>(map: &'m mut Map<String, Json>, key: &str) -> Option<&'m mut Json> {
    if map.len() <= SCAN_LIMIT {
        map.iter_mut()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    } else {
        map.get_mut(key)
    }
}

/// The object's `__typename`, when it is a string.
pub fn typename(map: &Map<String, Json>) -> Option<&str> {
    get(map, "__typename").and_then(Json::as_str)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    #[test]
    fn finds_keys_in_small_and_large_objects() {
        let mut large = Map::new();
        for i in 0..40 {
            large.insert(format!("k{i}"), json!(i));
        }
        large.insert("__typename".into(), json!("T"));
        let Value::Object(small) = json!({"a": 1, "__typename": "S"}) else {
            return;
        };
        assert_eq!(super::get(&small, "a"), Some(&json!(1)));
        assert_eq!(super::get(&small, "b"), None);
        assert_eq!(super::typename(&small), Some("S"));
        assert_eq!(super::get(&large, "k39"), Some(&json!(39)));
        assert_eq!(super::get(&large, "missing"), None);
        assert_eq!(super::typename(&large), Some("T"));
        let mut small = small;
        if let Some(a) = super::get_mut(&mut small, "a") {
            *a = json!(2);
        }
        assert_eq!(small.get("a"), Some(&json!(2)));
        if let Some(k) = super::get_mut(&mut large, "k3") {
            *k = json!("three");
        }
        assert_eq!(large.get("k3"), Some(&json!("three")));
    }
}
