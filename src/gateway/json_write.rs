//! Appending JSON text to a byte buffer: object keys, strings and values,
//! escaped exactly as `serde_json` escapes them, with no intermediate tree.

use serde_json::Value as Json;

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

/// Appends `text` as a JSON string literal.
pub fn string(out: &mut Vec<u8>, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else if serde_json::to_writer(&mut *out, text).is_err() {
        out.extend_from_slice(b"null");
    }
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
    fn keys_are_escaped_and_followed_by_a_colon() {
        let mut out = Vec::new();
        super::key(&mut out, "we\"ird");
        assert_eq!(out, br#""we\"ird":"#);
    }
}
