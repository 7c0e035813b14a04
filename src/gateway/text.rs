//! The data tree's strings: immutable UTF-8 that clones without copying and
//! knows whether it can be written into JSON as it is.
//!
//! A string parsed from a subgraph's answer without escape sequences is a
//! slice of that answer's body. Every execution that shares the answer
//! clones its strings by counting a reference instead of copying bytes (a
//! deep query's answers are mostly long text), and writing such a string
//! needs no escape check: JSON allows no unescaped quote, backslash or
//! control character inside a string, and those are the only characters
//! the writer escapes.

use std::fmt;

use bytestring::ByteString;

use super::json_write;

/// An immutable string of the data tree.
#[derive(Clone)]
pub struct Text(Kind);

#[derive(Clone)]
enum Kind {
    /// Holds nothing JSON must escape: written as it is.
    Plain(ByteString),
    /// May hold characters JSON escapes: written through the escaper.
    Escapable(ByteString),
}

impl Text {
    /// `part` of `source`, which the caller knows holds nothing JSON must
    /// escape (it was read from JSON without escape sequences). Shares
    /// `source`'s bytes when `part` lies inside it.
    pub fn plain_slice(source: &ByteString, part: &str) -> Text {
        let inside = source.as_ptr() as usize <= part.as_ptr() as usize
            && part.as_ptr() as usize + part.len() <= source.as_ptr() as usize + source.len();
        Text(Kind::Plain(if inside {
            source.slice_ref(part)
        } else {
            ByteString::from(part)
        }))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Kind::Plain(text) | Kind::Escapable(text) => text,
        }
    }

    /// Appends this string as a JSON string literal.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match &self.0 {
            Kind::Plain(text) => json_write::unescaped_string(out, text),
            Kind::Escapable(text) => json_write::string(out, text),
        }
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        let kind = if json_write::needs_escaping(text.as_bytes()) {
            Kind::Escapable
        } else {
            Kind::Plain
        };
        Text(kind(ByteString::from(text)))
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text::from(text.to_owned())
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(text: &Text) -> String {
        let mut out = Vec::new();
        text.write_json(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn a_slice_shares_its_source_and_writes_as_it_is() {
        let source = ByteString::from("{\"a\":\"hello\"}");
        let text = Text::plain_slice(&source, &source[6..11]);
        assert_eq!(text.as_str(), "hello");
        assert_eq!(text.as_str().as_ptr(), source[6..].as_ptr());
        assert_eq!(written(&text), "\"hello\"");
    }

    #[test]
    fn a_part_from_elsewhere_is_copied() {
        let source = ByteString::from("abc");
        let elsewhere = String::from("xyz");
        let text = Text::plain_slice(&source, &elsewhere);
        assert_eq!(text.as_str(), "xyz");
        assert_ne!(text.as_str().as_ptr(), elsewhere.as_ptr());
    }

    #[test]
    fn owned_text_is_escaped_exactly_when_it_needs_to_be() {
        for raw in [
            "plain",
            "quote \" here",
            "back\\slash",
            "line\nbreak",
            "\u{1}",
            "é ✓",
        ] {
            assert_eq!(
                written(&Text::from(raw)),
                serde_json::to_string(raw).unwrap_or_default(),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn texts_compare_by_content() {
        let source = ByteString::from("same");
        assert_eq!(Text::plain_slice(&source, &source), Text::from("same"));
        assert_ne!(Text::from("same"), Text::from("other"));
    }
}
