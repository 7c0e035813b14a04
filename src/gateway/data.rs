//! The data tree a response is assembled in: subgraph answers are parsed
//! into it, merged into one tree, read by representations and written out by
//! the projection.
//!
//! Objects are vectors of key/value pairs, not hash maps: subgraph objects
//! hold a handful of keys, are read by comparing keys in order, and are
//! never looked up by a key the client chose without the selection saying
//! so. That removes the hashing, the index tables and their growth that
//! parsing into `serde_json::Value` (an `IndexMap` per object) spent most
//! of its time on. Keys stay unique: a repeated key in a subgraph's JSON
//! keeps its first position and its last value, as `serde_json` does.

use std::fmt;

use bytestring::ByteString;
use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value as Json};

use super::json_write;
use super::text::Text;

/// One value of the data tree.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Data {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(Text),
    Array(Vec<Data>),
    Object(Object),
}

/// An object: its keys in the order they arrived, each once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object {
    entries: Vec<(String, Data)>,
}

impl Data {
    pub fn is_null(&self) -> bool {
        matches!(self, Data::Null)
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Data::Object(_))
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Data::String(_))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Data::String(text) => Some(text.as_str()),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Data::Object(object) => Some(object),
            _ => None,
        }
    }

    /// The value under `key` when this is an object.
    pub fn get(&self, key: &str) -> Option<&Data> {
        self.as_object()?.get(key)
    }

    /// This value as `serde_json` JSON (tests and cold paths).
    pub fn to_json(&self) -> Json {
        match self {
            Data::Null => Json::Null,
            Data::Bool(value) => Json::Bool(*value),
            Data::Number(number) => Json::Number(number.clone()),
            Data::String(text) => Json::String(text.as_str().to_owned()),
            Data::Array(items) => Json::Array(items.iter().map(Data::to_json).collect()),
            Data::Object(object) => Json::Object(
                object
                    .iter()
                    .map(|(key, value)| (key.to_string(), value.to_json()))
                    .collect(),
            ),
        }
    }
}

impl From<&Json> for Data {
    fn from(json: &Json) -> Data {
        match json {
            Json::Null => Data::Null,
            Json::Bool(value) => Data::Bool(*value),
            Json::Number(number) => Data::Number(number.clone()),
            Json::String(text) => Data::String(Text::from(text.as_str())),
            Json::Array(items) => Data::Array(items.iter().map(Data::from).collect()),
            Json::Object(map) => {
                let mut object = Object::with_capacity(map.len());
                for (key, value) in map {
                    object.insert(key.clone(), Data::from(value));
                }
                Data::Object(object)
            }
        }
    }
}

/// Compact JSON, as in error messages.
impl fmt::Display for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        json_write::data(&mut out, self);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

impl Object {
    pub fn new() -> Object {
        Object::default()
    }

    pub fn with_capacity(capacity: usize) -> Object {
        Object {
            entries: Vec::with_capacity(capacity),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Data> {
        self.entries
            .iter()
            .find(|(k, _)| same_key(k, key))
            .map(|(_, value)| value)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Data> {
        self.entries
            .iter_mut()
            .find(|(k, _)| same_key(k, key))
            .map(|(_, value)| value)
    }

    /// The object's `__typename`, when it is a string.
    pub fn typename(&self) -> Option<&str> {
        self.get("__typename").and_then(Data::as_str)
    }

    /// Sets `key` to `value`: in place when the key exists, else at the end.
    pub fn insert(&mut self, key: String, value: Data) {
        match self.get_mut(&key) {
            Some(existing) => *existing = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Removes `key`, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<Data> {
        let position = self.entries.iter().position(|(k, _)| same_key(k, key))?;
        Some(self.entries.remove(position).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Data)> {
        self.entries
            .iter()
            .map(|(key, value)| (key.as_str(), value))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Data)> {
        self.entries
            .iter_mut()
            .map(|(key, value)| (key.as_str(), value))
    }

    /// Adds `key`, which the caller knows is not present (a merge that has
    /// just looked for it): no second search.
    pub fn append_absent(&mut self, key: String, value: Data) {
        self.entries.push((key, value));
    }

    /// Restores unique keys after parsing: a repeated key keeps its first
    /// position and its last value. Repeats are rare, so finding them is
    /// the cost that matters: pairwise for small objects, sorted for large.
    fn unique_keys(mut self) -> Object {
        let len = self.entries.len();
        let repeated = if len <= 16 {
            (1..len).any(|i| {
                self.entries[..i]
                    .iter()
                    .any(|(k, _)| *k == self.entries[i].0)
            })
        } else {
            let mut keys: Vec<&str> = self.entries.iter().map(|(k, _)| k.as_str()).collect();
            keys.sort_unstable();
            keys.windows(2).any(|pair| pair[0] == pair[1])
        };
        if !repeated {
            return self;
        }
        let mut first_at: std::collections::HashMap<String, usize> =
            std::collections::HashMap::with_capacity(len);
        let mut unique: Vec<(String, Data)> = Vec::with_capacity(len);
        for (key, value) in self.entries.drain(..) {
            match first_at.get(&key) {
                Some(&at) => unique[at].1 = value,
                None => {
                    first_at.insert(key.clone(), unique.len());
                    unique.push((key, value));
                }
            }
        }
        Object { entries: unique }
    }
}

/// Key equality without a call into libc's `memcmp` for the short keys
/// GraphQL field names are: merging and projecting compare keys more than
/// anything else, and the call cost more than the comparison.
#[inline]
fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let len = a.len();
    if len != b.len() {
        return false;
    }
    match len {
        0 => true,
        1..=3 => a[0] == b[0] && a[len / 2] == b[len / 2] && a[len - 1] == b[len - 1],
        4..=7 => word4(&a[..4]) == word4(&b[..4]) && word4(&a[len - 4..]) == word4(&b[len - 4..]),
        8..=16 => word8(&a[..8]) == word8(&b[..8]) && word8(&a[len - 8..]) == word8(&b[len - 8..]),
        _ => a == b,
    }
}

fn word4(bytes: &[u8]) -> u32 {
    let mut four = [0u8; 4];
    four.copy_from_slice(bytes);
    u32::from_ne_bytes(four)
}

fn word8(bytes: &[u8]) -> u64 {
    let mut eight = [0u8; 8];
    eight.copy_from_slice(bytes);
    u64::from_ne_bytes(eight)
}

impl IntoIterator for Object {
    type Item = (String, Data);
    type IntoIter = std::vec::IntoIter<(String, Data)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Data, D::Error> {
        DataSeed { source: None }.deserialize(deserializer)
    }
}

/// Parses one JSON value into a data tree. With a `source` (the text being
/// parsed), strings without escape sequences become slices of it instead
/// of copies.
#[derive(Clone, Copy)]
pub struct DataSeed<'s> {
    pub source: Option<&'s ByteString>,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Data;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Data, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = Data;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_none<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Data, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Data, E> {
        Ok(Data::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Data, E> {
        Ok(Data::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Data, E> {
        Ok(Data::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Data, E> {
        Ok(Number::from_f64(value).map_or(Data::Null, Data::Number))
    }

    /// A string the parser lends straight from the input had no escape
    /// sequence, so (JSON being what it is) nothing in it needs escaping.
    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Data, E> {
        Ok(Data::String(match self.source {
            Some(source) => Text::plain_slice(source, value),
            None => Text::from(value),
        }))
    }

    fn visit_str<E>(self, value: &str) -> Result<Data, E> {
        Ok(Data::String(Text::from(value)))
    }

    fn visit_string<E>(self, value: String) -> Result<Data, E> {
        Ok(Data::String(Text::from(value)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Data::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let mut object = Object::with_capacity(map.size_hint().unwrap_or(0).clamp(4, 64));
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self)?;
            object.append_absent(key, value);
        }
        Ok(Data::Object(object.unique_keys()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Data, Object};

    fn parse(text: &str) -> Data {
        serde_json::from_str(text).expect("valid JSON")
    }

    #[test]
    fn parses_every_kind_and_keeps_key_order() {
        let text = r#"{"z":1,"a":[true,null,-2,3.5,"s\u00e9\n"],"m":{"b":{},"a":[]}}"#;
        let data = parse(text);
        let keys: Vec<&str> = data
            .as_object()
            .map_or(Vec::new(), |o| o.iter().map(|(k, _)| k).collect());
        assert_eq!(keys, ["z", "a", "m"]);
        assert_eq!(
            data.to_json(),
            serde_json::from_str::<serde_json::Value>(text).unwrap_or_default()
        );
        assert_eq!(
            data.to_string(),
            r#"{"z":1,"a":[true,null,-2,3.5,"sé\n"],"m":{"b":{},"a":[]}}"#
        );
        assert_eq!(Data::from(&data.to_json()), data);
    }

    #[test]
    fn parsing_with_a_source_slices_plain_strings_and_writes_the_same_json() {
        use serde::de::DeserializeSeed;
        let source = bytestring::ByteString::from(
            r#"{"plain":"long text, no escapes","escaped":"a \"quote\" and\nline","list":["x","\u00e9"]}"#,
        );
        let mut parser = serde_json::Deserializer::from_str(&source);
        let data = super::DataSeed {
            source: Some(&source),
        }
        .deserialize(&mut parser)
        .unwrap_or_default();
        let plain = data.get("plain").and_then(Data::as_str).unwrap_or_default();
        let inside = source.as_ptr() as usize..source.as_ptr() as usize + source.len();
        assert!(
            inside.contains(&(plain.as_ptr() as usize)),
            "sliced, not copied"
        );
        assert_eq!(
            data.to_string(),
            serde_json::to_string(
                &serde_json::from_str::<serde_json::Value>(&source).unwrap_or_default()
            )
            .unwrap_or_default()
        );
    }

    /// Slices are written without an escape check because the parser
    /// refuses raw control characters inside strings; this guards that.
    #[test]
    fn a_raw_control_character_in_a_string_is_refused() {
        use serde::de::DeserializeSeed;
        let source = bytestring::ByteString::from("{\"a\":\"bell\u{7}here\"}");
        let mut parser = serde_json::Deserializer::from_str(&source);
        let parsed = super::DataSeed {
            source: Some(&source),
        }
        .deserialize(&mut parser);
        assert!(parsed.is_err(), "{parsed:?}");
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_last_value() {
        let small = parse(r#"{"a":1,"b":2,"a":3}"#);
        assert_eq!(small.to_string(), r#"{"a":3,"b":2}"#);
        assert_eq!(small.to_json(), json!({"a": 3, "b": 2}));

        let mut text = String::from("{");
        for i in 0..40 {
            text.push_str(&format!("\"k{i}\":{i},"));
        }
        text.push_str("\"k7\":\"last\"}");
        let large = parse(&text);
        let object = large.as_object().cloned().unwrap_or_default();
        assert_eq!(object.len(), 40);
        assert_eq!(object.get("k7"), Some(&Data::String("last".into())));
        assert_eq!(object.iter().nth(7).map(|(k, _)| k), Some("k7"));
    }

    #[test]
    fn keys_compare_equal_exactly_when_their_bytes_do() {
        for len in 0..40 {
            let key: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            assert!(super::same_key(&key, &key.clone()));
            for at in 0..len {
                let mut other = key.clone().into_bytes();
                other[at] = b'_';
                let other = String::from_utf8(other).unwrap_or_default();
                assert!(!super::same_key(&key, &other), "{key} vs {other}");
            }
            assert!(!super::same_key(&key, &format!("{key}x")));
        }
    }

    #[test]
    fn insert_replaces_in_place_and_remove_keeps_order() {
        let mut object = Object::new();
        object.insert("a".into(), Data::Bool(true));
        object.insert("b".into(), Data::Null);
        object.insert("c".into(), Data::Bool(false));
        object.insert("a".into(), Data::String("x".into()));
        assert_eq!(object.remove("b"), Some(Data::Null));
        assert_eq!(object.remove("b"), None);
        assert_eq!(Data::Object(object).to_string(), r#"{"a":"x","c":false}"#);
    }
}
