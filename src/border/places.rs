//! The hub's reference list of ports of entry (UN/LOCODE) and Border
//! Control Posts (which ports each serves, when it is open), read from
//! `schema/border/places.toml`. Declarations and agency scopes are checked
//! against it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveTime, Utc};
use serde::Deserialize;

use super::BorderDataError;

/// The places file built into the binary.
pub const BUILTIN_PLACES: &str = include_str!("../../schema/border/places.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlacesFile {
    #[serde(default)]
    port: Vec<Port>,
    #[serde(default)]
    border_control_post: Vec<BorderControlPostFile>,
}

/// A port of entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Port {
    /// UN/LOCODE, e.g. `GBDOV`.
    pub code: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BorderControlPostFile {
    code: String,
    name: String,
    serves: Vec<String>,
    opens: String,
    closes: String,
}

/// A Border Control Post: where consignments are inspected.
#[derive(Debug, Clone)]
pub struct BorderControlPost {
    pub code: String,
    pub name: String,
    /// The ports whose consignments it inspects.
    pub serves: Vec<String>,
    pub opens: NaiveTime,
    /// `None`: open until midnight (`24:00`).
    pub closes: Option<NaiveTime>,
}

/// Ports and posts by code.
#[derive(Debug, Clone)]
pub struct Places {
    ports: HashMap<String, Port>,
    posts: Vec<BorderControlPost>,
}

fn is_locode(code: &str) -> bool {
    code.len() == 5
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

impl Places {
    pub fn parse(text: &str, source: &str) -> Result<Places, BorderDataError> {
        let refuse = |message: String| BorderDataError {
            file: source.to_owned(),
            message,
        };
        let file: PlacesFile = toml::from_str(text).map_err(|e| refuse(e.to_string()))?;
        let mut ports = HashMap::new();
        for port in file.port {
            if !is_locode(&port.code) || !port.code.starts_with("GB") {
                return Err(refuse(format!(
                    "port {:?}: a UK port is a UN/LOCODE: GB and three letters or digits",
                    port.code
                )));
            }
            if ports.insert(port.code.clone(), port.clone()).is_some() {
                return Err(refuse(format!("port {} is listed twice", port.code)));
            }
        }
        let mut posts = Vec::new();
        let mut seen = HashSet::new();
        for post in file.border_control_post {
            let code = post.code.clone();
            let at = |message: String| refuse(format!("border control post {code}: {message}"));
            let well_formed = code.len() == 6
                && code[..5].bytes().all(|b| b.is_ascii_uppercase())
                && code.as_bytes()[5].is_ascii_digit();
            if !well_formed {
                return Err(at(
                    "a post code is five capital letters and a digit, e.g. GBSEV1".into(),
                ));
            }
            if !seen.insert(code.clone()) {
                return Err(refuse(format!(
                    "border control post {code} is listed twice"
                )));
            }
            if let Some(port) = post.serves.iter().find(|p| !ports.contains_key(*p)) {
                return Err(at(format!("it serves {port}, which is not a listed port")));
            }
            let time = |text: &str| {
                NaiveTime::parse_from_str(text, "%H:%M")
                    .map_err(|_| at(format!("{text:?} is not a time of day HH:MM")))
            };
            let opens = time(&post.opens)?;
            let closes = if post.closes == "24:00" {
                None
            } else {
                Some(time(&post.closes)?)
            };
            posts.push(BorderControlPost {
                code,
                name: post.name,
                serves: post.serves,
                opens,
                closes,
            });
        }
        Ok(Places { ports, posts })
    }

    /// The built-in reference list.
    pub fn builtin() -> Result<Places, BorderDataError> {
        Places::parse(BUILTIN_PLACES, "schema/border/places.toml")
    }

    pub fn port(&self, code: &str) -> Option<&Port> {
        self.ports.get(code)
    }

    pub fn border_control_post(&self, code: &str) -> Option<&BorderControlPost> {
        self.posts.iter().find(|p| p.code == code)
    }

    /// The first moment from `at` at which the post `code` is open (times of
    /// day are read as UTC); `at` itself for a port or an unknown code.
    pub fn next_open(&self, code: &str, at: DateTime<Utc>) -> DateTime<Utc> {
        let Some(post) = self.border_control_post(code) else {
            return at;
        };
        let time = at.time();
        let open_now = time >= post.opens && post.closes.is_none_or(|closes| time < closes);
        if open_now {
            return at;
        }
        let day = if time < post.opens {
            at.date_naive()
        } else {
            at.date_naive() + chrono::Days::new(1)
        };
        day.and_time(post.opens).and_utc()
    }

    /// The name of a port or post, for plans.
    pub fn name_of(&self, code: &str) -> Option<&str> {
        self.port(code)
            .map(|p| p.name.as_str())
            .or_else(|| self.border_control_post(code).map(|p| p.name.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inspection_waits_for_its_post_to_open() {
        let places = Places::builtin().expect("places");
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .expect("time")
                .with_timezone(&Utc)
        };
        // Felixstowe opens 06:00–22:00; Sevington never closes.
        assert_eq!(
            places.next_open("GBFXT1", at("2026-12-02T10:00:00Z")),
            at("2026-12-02T10:00:00Z")
        );
        assert_eq!(
            places.next_open("GBFXT1", at("2026-12-02T03:10:00Z")),
            at("2026-12-02T06:00:00Z")
        );
        assert_eq!(
            places.next_open("GBFXT1", at("2026-12-02T22:30:00Z")),
            at("2026-12-03T06:00:00Z")
        );
        assert_eq!(
            places.next_open("GBSEV1", at("2026-12-02T03:10:00Z")),
            at("2026-12-02T03:10:00Z")
        );
        assert_eq!(
            places.next_open("GBDOV", at("2026-12-02T03:10:00Z")),
            at("2026-12-02T03:10:00Z")
        );
    }
}
