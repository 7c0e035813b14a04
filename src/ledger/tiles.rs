//! The ledger as C2SP tlog-tiles: the Merkle tree served as tiles of 256
//! consecutive hashes, and the entries as bundles, so that any tlog client,
//! monitor or witness can read and check the ledger without our API.
//!
//! In tlog-tiles terms the log's entries are the 32-byte entry hashes (the
//! tree's leaves are `SHA-256(0x00 || entry_hash)`, see [`super::entry`]):
//! an entry bundle lists them, and a client that has an entry's header
//! re-hashes it and finds it in the bundle. Tile `n` at level `l` holds the
//! hashes of the perfect subtrees of `256^l` leaves numbered
//! `n * 256 .. n * 256 + 256`, each one stored as it completed (level 0:
//! the leaf hashes). A tile's content for a given width never changes, so
//! full and partial tiles alike are immutable.

use diesel::prelude::*;

use super::merkle::{leaf_hash, Hash, NodeId, MAX_LEAVES};
use super::rows::hash_column;
use super::{Ledger, LedgerError};
use crate::store::schema::{ledger_entries, ledger_nodes};

/// Hashes in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// Highest tile level the path grammar allows.
pub const MAX_TILE_LEVEL: u8 = 63;

/// Which tile: a level of the hash tree, or the entry bundles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    Hashes { level: u8 },
    Entries,
}

/// One tile or entry bundle, as its path names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    pub kind: TileKind,
    pub index: u64,
    /// `Some(w)` for a partial tile of `w` (1 to 255) hashes or entries.
    pub partial: Option<u8>,
}

/// Why a tile path is not one the grammar allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TilePathError {
    #[error("the level must be a decimal from 0 to 63 without leading zeros, or `entries`")]
    Level,
    #[error("the index must be 3-digit path elements, all but the last starting with `x`, without a leading x000")]
    Index,
    #[error("a partial tile's width must be a decimal from 1 to 255 without leading zeros")]
    Width,
}

/// `n` as tlog-tiles path elements: 1234067 is `x001/x234/067`.
pub fn encode_index(n: u64) -> String {
    let digits = n.to_string();
    let padded = format!("{}{digits}", "0".repeat((3 - digits.len() % 3) % 3));
    let groups: Vec<&str> = padded
        .as_bytes()
        .chunks(3)
        .map(|c| std::str::from_utf8(c).unwrap_or("000"))
        .collect();
    let last = groups.len() - 1;
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            if i < last {
                format!("x{g}")
            } else {
                (*g).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl TileId {
    /// The path below the log's prefix (`tile/1/x001/234.p/17`).
    pub fn path(&self) -> String {
        let level = match self.kind {
            TileKind::Hashes { level } => level.to_string(),
            TileKind::Entries => "entries".into(),
        };
        let mut path = format!("tile/{level}/{}", encode_index(self.index));
        if let Some(width) = self.partial {
            path.push_str(&format!(".p/{width}"));
        }
        path
    }

    /// Parses the part of a path after `tile/`, accepting only the
    /// canonical spelling (one path per tile, as a static server would).
    pub fn parse(tail: &str) -> Result<TileId, TilePathError> {
        let mut parts: Vec<&str> = tail.split('/').collect();
        let kind = match parts.first().copied() {
            Some("entries") => TileKind::Entries,
            Some(level) if canonical_decimal(level, 2) => TileKind::Hashes {
                level: level
                    .parse::<u8>()
                    .ok()
                    .filter(|l| *l <= MAX_TILE_LEVEL)
                    .ok_or(TilePathError::Level)?,
            },
            _ => return Err(TilePathError::Level),
        };
        parts.remove(0);
        let mut partial = None;
        if parts.len() >= 2 {
            if let Some(last_index) = parts[parts.len() - 2].strip_suffix(".p") {
                let width = parts[parts.len() - 1];
                if !canonical_decimal(width, 3) {
                    return Err(TilePathError::Width);
                }
                let width = width
                    .parse::<u8>()
                    .ok()
                    .filter(|w| *w >= 1)
                    .ok_or(TilePathError::Width)?;
                partial = Some(width);
                parts.pop();
                let at = parts.len() - 1;
                parts[at] = last_index;
            }
        }
        Ok(TileId {
            kind,
            index: parse_index(&parts)?,
            partial,
        })
    }

    /// How many hashes (or entries) the tile holds.
    pub fn width(&self) -> u64 {
        self.partial.map_or(TILE_WIDTH, u64::from)
    }
}

/// A decimal of 1 to `max_len` digits with no leading zero (but `0`).
fn canonical_decimal(s: &str, max_len: usize) -> bool {
    !s.is_empty()
        && s.len() <= max_len
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'))
}

fn parse_index(elements: &[&str]) -> Result<u64, TilePathError> {
    // u64 has 20 digits: at most 7 groups.
    if elements.is_empty() || elements.len() > 7 {
        return Err(TilePathError::Index);
    }
    let last = elements.len() - 1;
    let mut value: u64 = 0;
    for (i, element) in elements.iter().enumerate() {
        let digits = if i < last {
            element.strip_prefix('x').ok_or(TilePathError::Index)?
        } else {
            element
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TilePathError::Index);
        }
        if i == 0 && last > 0 && digits == "000" {
            return Err(TilePathError::Index);
        }
        let group: u64 = digits.parse().map_err(|_| TilePathError::Index)?;
        value = value
            .checked_mul(1000)
            .and_then(|v| v.checked_add(group))
            .ok_or(TilePathError::Index)?;
    }
    Ok(value)
}

/// The number of hashes at tile level `level` in a tree of `size` leaves:
/// one per perfect subtree of `256^level` leaves.
pub fn hashes_at_level(size: u64, level: u8) -> u64 {
    let shift = 8 * u32::from(level);
    if shift >= 64 {
        0
    } else {
        size >> shift
    }
}

/// The width of the partial tile at `level` for a tree of `size` leaves
/// (0 when that level has no partial tile).
pub fn partial_width(size: u64, level: u8) -> u64 {
    hashes_at_level(size, level) % TILE_WIDTH
}

impl Ledger {
    /// The bytes of tile `id` (32 bytes per hash; for entry bundles a
    /// big-endian `u16` length then the entry hash, per entry), or `None`
    /// when the ledger does not hold that much yet.
    pub fn tile(&self, id: &TileId) -> Result<Option<Vec<u8>>, LedgerError> {
        let mut conn = self.store.get()?;
        let size = super::read::head(&mut conn)?.size as u64;
        let level = match id.kind {
            TileKind::Hashes { level } => level,
            TileKind::Entries => 0,
        };
        let first = match id.index.checked_mul(TILE_WIDTH) {
            Some(first) => first,
            None => return Ok(None),
        };
        let width = id.width();
        if first.saturating_add(width) > hashes_at_level(size, level) {
            return Ok(None);
        }
        let last = first + width - 1;
        let hashes: Vec<Vec<u8>> = if level == 0 {
            let (Ok(from), Ok(to)) = (i64::try_from(first), i64::try_from(last)) else {
                return Ok(None);
            };
            ledger_entries::table
                .filter(ledger_entries::seq.between(from, to))
                .order(ledger_entries::seq.asc())
                .select(ledger_entries::entry_hash)
                .load(&mut *conn)?
        } else {
            let node_level = 8 * u32::from(level);
            if last >= MAX_LEAVES {
                return Ok(None);
            }
            let from = NodeId {
                level: node_level,
                index: first,
            }
            .key();
            let to = NodeId {
                level: node_level,
                index: last,
            }
            .key();
            ledger_nodes::table
                .filter(ledger_nodes::id.between(from, to))
                .order(ledger_nodes::id.asc())
                .select(ledger_nodes::hash)
                .load(&mut *conn)?
        };
        if hashes.len() as u64 != width {
            return Err(LedgerError::CorruptHead(
                "the stored tree lacks hashes its size implies",
            ));
        }
        let mut out = Vec::with_capacity(hashes.len() * 34);
        for stored in &hashes {
            let hash = hash_column(stored);
            match id.kind {
                TileKind::Entries => {
                    out.extend_from_slice(&(hash.len() as u16).to_be_bytes());
                    out.extend_from_slice(&hash);
                }
                TileKind::Hashes { level: 0 } => out.extend_from_slice(&leaf_hash(&hash)),
                TileKind::Hashes { .. } => out.extend_from_slice(&hash),
            }
        }
        Ok(Some(out))
    }
}

/// What a tlog-tiles client computes from tiles alone, for a tree of
/// `size` leaves (a verified checkpoint's): any range's RFC 6962 hash and
/// any entry's audit path. `fetch` gets one tile (full, or partial at the
/// checkpoint's width), each at most once.
pub struct TileReader<F> {
    size: u64,
    fetch: F,
    tiles: std::collections::HashMap<TileId, Vec<u8>>,
}

/// A tile the reader needed and could not get, or got malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tile {0} is missing or malformed")]
pub struct MissingTile(pub String);

impl<F: FnMut(&TileId) -> Option<Vec<u8>>> TileReader<F> {
    pub fn new(size: u64, fetch: F) -> Self {
        TileReader {
            size,
            fetch,
            tiles: std::collections::HashMap::new(),
        }
    }

    /// The tile of `level` holding hash `index` of that level.
    fn hash_at(&mut self, level: u8, index: u64) -> Result<Hash, MissingTile> {
        let tile_index = index / TILE_WIDTH;
        let full = (tile_index + 1) * TILE_WIDTH <= hashes_at_level(self.size, level);
        let id = TileId {
            kind: TileKind::Hashes { level },
            index: tile_index,
            partial: if full {
                None
            } else {
                u8::try_from(partial_width(self.size, level)).ok()
            },
        };
        if !self.tiles.contains_key(&id) {
            let bytes = (self.fetch)(&id)
                .filter(|b| b.len() as u64 == id.width() * 32)
                .ok_or_else(|| MissingTile(id.path()))?;
            self.tiles.insert(id, bytes);
        }
        let at = (index % TILE_WIDTH) as usize * 32;
        self.tiles
            .get(&id)
            .and_then(|t| t.get(at..at + 32))
            .and_then(|h| Hash::try_from(h).ok())
            .ok_or_else(|| MissingTile(id.path()))
    }

    /// The hash of the perfect subtree of `2^height` leaves from `start`.
    fn perfect(&mut self, start: u64, height: u32) -> Result<Hash, MissingTile> {
        let level = (height / 8) as u8;
        let first = start >> (8 * u32::from(level));
        let mut hashes = (0..1u64 << (height % 8))
            .map(|i| self.hash_at(level, first + i))
            .collect::<Result<Vec<_>, _>>()?;
        while hashes.len() > 1 {
            hashes = hashes
                .chunks(2)
                .map(|pair| super::merkle::node_hash(&pair[0], &pair[1]))
                .collect();
        }
        Ok(hashes[0])
    }

    /// RFC 6962 MTH of leaves `start..end` (`start < end <= size`).
    pub fn range_hash(&mut self, start: u64, end: u64) -> Result<Hash, MissingTile> {
        let n = end - start;
        if n.is_power_of_two() && start.is_multiple_of(n) {
            return self.perfect(start, n.trailing_zeros());
        }
        let k = 1u64 << (63 - (n - 1).leading_zeros());
        let left = self.range_hash(start, start + k)?;
        let right = self.range_hash(start + k, end)?;
        Ok(super::merkle::node_hash(&left, &right))
    }

    /// The tree's root.
    pub fn root(&mut self) -> Result<Hash, MissingTile> {
        if self.size == 0 {
            return Ok(super::merkle::empty_root());
        }
        self.range_hash(0, self.size)
    }

    /// The audit path of leaf `index`, leaf first, as RFC 6962 orders it.
    pub fn inclusion_path(&mut self, index: u64) -> Result<Vec<Hash>, MissingTile> {
        let (mut start, mut end) = (0, self.size);
        let mut siblings = Vec::new();
        while end - start > 1 {
            let k = 1u64 << (63 - (end - start - 1).leading_zeros());
            if index < start + k {
                siblings.push((start + k, end));
                end = start + k;
            } else {
                siblings.push((start, start + k));
                start += k;
            }
        }
        siblings
            .into_iter()
            .rev()
            .map(|(from, to)| self.range_hash(from, to))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_encoding_follows_the_spec() {
        assert_eq!(encode_index(1234067), "x001/x234/067");
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(999), "999");
        assert_eq!(encode_index(1000), "x001/000");
        assert_eq!(
            TileId::parse("0/x001/x234/067").unwrap(),
            TileId {
                kind: TileKind::Hashes { level: 0 },
                index: 1234067,
                partial: None
            }
        );
        let partial = TileId::parse("entries/x001/234.p/17").unwrap();
        assert_eq!(partial.kind, TileKind::Entries);
        assert_eq!((partial.index, partial.partial), (1234, Some(17)));
        assert_eq!(partial.path(), "tile/entries/x001/234.p/17");
        for bad in [
            "00/000",
            "64/000",
            "0/1",
            "0/x000/001",
            "0/001/002",
            "0/000.p/0",
            "0/000.p/256",
            "0/000.p/017",
            "0/0001",
            "x/000",
            "0/",
            "0/000/",
        ] {
            assert!(TileId::parse(bad).is_err(), "{bad} was accepted");
        }
        for n in [0, 1, 255, 256, 1000, 65_535, 1 << 40, u64::MAX] {
            let id = TileId {
                kind: TileKind::Hashes { level: 3 },
                index: n,
                partial: None,
            };
            assert_eq!(TileId::parse(&id.path()["tile/".len()..]), Ok(id));
        }
    }

    #[test]
    fn a_tree_of_70000_has_the_tiles_the_spec_lists() {
        let size = 70_000;
        assert_eq!(hashes_at_level(size, 0) / TILE_WIDTH, 273);
        assert_eq!(partial_width(size, 0), 112);
        assert_eq!(hashes_at_level(size, 1) / TILE_WIDTH, 1);
        assert_eq!(partial_width(size, 1), 17);
        assert_eq!(hashes_at_level(size, 2) / TILE_WIDTH, 0);
        assert_eq!(partial_width(size, 2), 1);
        assert_eq!(partial_width(size, 3), 0);
        // A tree of 256: one full level-0 tile and a partial level-1 tile of width 1.
        assert_eq!(
            (hashes_at_level(256, 0) / TILE_WIDTH, partial_width(256, 0)),
            (1, 0)
        );
        assert_eq!(partial_width(256, 1), 1);
    }
}
