//! Appending JSON text to a byte buffer: object keys, strings and values,
//! escaped exactly as `serde_json` escapes them, with no intermediate tree.

use serde_json::Value as Json;

use super::data::Data;

/// Appends `value` as JSON.
pub fn value(out: &mut Vec<u8>, value: &Json) {
    match value {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(true) => out.extend_from_slice(b"true"),
        Json::Bool(false) => out.extend_from_slice(b"false"),
        Json::String(text) => string(out, text),
        other => {
            // Writing into a Vec cannot fail and a `Value` always encodes;
            // `null` only keeps the output well-formed if that ever changed.
            if serde_json::to_writer(&mut *out, other).is_err() {
                out.extend_from_slice(b"null");
            }
        }
    }
}

/// Appends `data` as JSON.
pub fn data(out: &mut Vec<u8>, data: &Data) {
    match data {
        Data::Null => out.extend_from_slice(b"null"),
        Data::Bool(true) => out.extend_from_slice(b"true"),
        Data::Bool(false) => out.extend_from_slice(b"false"),
        Data::String(text) => text.write_json(out),
        Data::Number(number) => {
            // As in `value`: writing a number into a Vec cannot fail.
            if serde_json::to_writer(&mut *out, number).is_err() {
                out.extend_from_slice(b"null");
            }
        }
        Data::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                self::data(out, item);
            }
            out.push(b']');
        }
        Data::Object(object) => {
            out.push(b'{');
            for (index, (name, item)) in object.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                key(out, name);
                self::data(out, item);
            }
            out.push(b'}');
        }
    }
}

/// Appends `text` as a JSON string literal. Most strings need no escaping:
/// they are checked sixteen bytes at a time and copied whole.
pub fn string(out: &mut Vec<u8>, text: &str) {
    if needs_escaping(text.as_bytes()) {
        if serde_json::to_writer(&mut *out, text).is_err() {
            out.extend_from_slice(b"null");
        }
        return;
    }
    unescaped_string(out, text);
}

/// Appends `text` between quotes as it is: for text known to hold nothing
/// JSON must escape.
pub fn unescaped_string(out: &mut Vec<u8>, text: &str) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);

/// High bits set where a byte of `word` is below 0x20, a quote or a
/// backslash. A set bit may be spurious only above a true one, so the
/// mask is zero exactly when no byte needs escaping.
fn escape_mask(word: u64) -> u64 {
    let zero_mask = |v: u64| v.wrapping_sub(ONES) & !v;
    (word.wrapping_sub(ONES * 0x20) & !word)
        | zero_mask(word ^ QUOTES)
        | zero_mask(word ^ BACKSLASHES)
}

fn word(bytes: &[u8]) -> u64 {
    let mut eight = [0u8; 8];
    eight.copy_from_slice(bytes);
    u64::from_ne_bytes(eight)
}

/// True when `bytes` holds a quote, a backslash or a control character.
pub fn needs_escaping(bytes: &[u8]) -> bool {
    let mut pairs = bytes.chunks_exact(16);
    for pair in &mut pairs {
        let (low, high) = pair.split_at(8);
        if (escape_mask(word(low)) | escape_mask(word(high))) & HIGHS != 0 {
            return true;
        }
    }
    let rest = pairs.remainder();
    if rest.len() >= 8 {
        // The last eight bytes, overlapping what was already checked.
        let (head, tail) = (&rest[..8], &rest[rest.len() - 8..]);
        return (escape_mask(word(head)) | escape_mask(word(tail))) & HIGHS != 0;
    }
    rest.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Appends `"key":`.
pub fn key(out: &mut Vec<u8>, key: &str) {
    string(out, key);
    out.push(b':');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    fn written(v: &serde_json::Value) -> String {
        let mut out = Vec::new();
        super::value(&mut out, v);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn writes_what_serde_json_writes() {
        for v in [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-17),
            json!(1.5e300),
            json!(0.1),
            json!("plain"),
            json!("quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7}"),
            json!("unicode é ✓ 😀 \u{2028}"),
            json!({"a": [1, "two", {"three": null}], "b": {"c": false}}),
        ] {
            assert_eq!(written(&v), v.to_string());
        }
    }

    #[test]
    fn every_byte_that_needs_escaping_is_found_at_every_position() {
        for special in (0u8..0x20).chain([b'"', b'\\']) {
            for len in 1..40 {
                for at in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    assert!(super::needs_escaping(&bytes), "{special} at {at} of {len}");
                }
            }
        }
        for harmless in [b' ', b'!', b'#', b'[', b']', 0x7f, 0xc3, 0xff] {
            for len in 0..40 {
                assert!(!super::needs_escaping(&vec![harmless; len]));
            }
        }
    }

    #[test]
    fn keys_are_escaped_and_followed_by_a_colon() {
        let mut out = Vec::new();
        super::key(&mut out, "we\"ird");
        assert_eq!(out, br#""we\"ird":"#);
    }
}
