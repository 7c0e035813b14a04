//! The ledger read as C2SP tlog-tiles over HTTP by a client that holds only
//! the verifier key: it checks the checkpoint's signature, rebuilds the
//! root and any inclusion proof from tiles alone, and the results equal the
//! ledger's own proofs at many tree sizes.

mod support;

use std::collections::HashMap;

use tellonce::ledger::checkpoint::verify_note;
use tellonce::ledger::merkle::{leaf_hash, node_hash, verify_inclusion, Hash};
use tellonce::ledger::tiles::{encode_index, partial_width, TileId, TileReader, TILE_WIDTH};
use tellonce::ledger::NoteVerifier;

use support::{entry, TestDb};

/// A tlog-tiles reader of one log, fetching each tile once.
struct TileClient {
    base: String,
    http: reqwest::Client,
    tree_size: u64,
    tiles: HashMap<(String, u64), Vec<u8>>,
}

impl TileClient {
    /// Reads and verifies the checkpoint: the only thing it trusts is the key.
    async fn open(base: String, key: &NoteVerifier) -> (TileClient, Hash) {
        let http = reqwest::Client::new();
        let note = http
            .get(format!("{base}/checkpoint"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let checkpoint = verify_note(&note, key, Some("tellonce.gov.uk/ledger")).unwrap();
        let client = TileClient {
            base,
            http,
            tree_size: checkpoint.size,
            tiles: HashMap::new(),
        };
        (client, checkpoint.root)
    }

    /// Tile `index` of `level` as the checkpoint's tree needs it: full if
    /// the tree has it whole, else the partial tile of the checkpoint's width.
    async fn tile(&mut self, level: &str, tile_level: u8, index: u64) -> Vec<u8> {
        let key = (level.to_string(), index);
        if let Some(tile) = self.tiles.get(&key) {
            return tile.clone();
        }
        let full = (index + 1) * TILE_WIDTH <= self.tree_size >> (8 * u32::from(tile_level));
        let mut path = format!("{}/tile/{level}/{}", self.base, encode_index(index));
        if !full {
            path.push_str(&format!(".p/{}", partial_width(self.tree_size, tile_level)));
        }
        let res = self.http.get(&path).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], "application/octet-stream");
        assert!(res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable"));
        let bytes = res.bytes().await.unwrap().to_vec();
        self.tiles.insert(key, bytes.clone());
        bytes
    }

    /// The hash of the perfect subtree of `2^height` leaves starting at `start`.
    async fn perfect(&mut self, start: u64, height: u32) -> Hash {
        let (level, rest) = (height / 8, height % 8);
        let first = start >> (8 * level);
        let tile = self
            .tile(&level.to_string(), level as u8, first / TILE_WIDTH)
            .await;
        let offset = (first % TILE_WIDTH) as usize;
        let mut hashes: Vec<Hash> = (0..1usize << rest)
            .map(|i| {
                tile[(offset + i) * 32..(offset + i + 1) * 32]
                    .try_into()
                    .unwrap()
            })
            .collect();
        while hashes.len() > 1 {
            hashes = hashes.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
        }
        hashes[0]
    }

    /// RFC 6962 MTH of leaves `start..end`.
    async fn range(&mut self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n.is_power_of_two() && start.is_multiple_of(n) {
            return self.perfect(start, n.trailing_zeros()).await;
        }
        let k = 1u64 << (63 - (n - 1).leading_zeros());
        let left = Box::pin(self.range(start, start + k)).await;
        let right = Box::pin(self.range(start + k, end)).await;
        node_hash(&left, &right)
    }

    /// The RFC 6962 audit path of leaf `index` in the checkpoint's tree.
    async fn inclusion_path(&mut self, index: u64) -> Vec<Hash> {
        let mut path = Vec::new();
        let (mut start, mut end) = (0, self.tree_size);
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
        for (from, to) in siblings.into_iter().rev() {
            path.push(self.range(from, to).await);
        }
        path
    }

    /// The entry hash at `index`, from its entry bundle.
    async fn entry_hash(&mut self, index: u64) -> Hash {
        let bundle = self.tile("entries", 0, index / TILE_WIDTH).await;
        let at = (index % TILE_WIDTH) as usize * 34;
        assert_eq!(&bundle[at..at + 2], &[0, 32], "a u16 length of 32");
        bundle[at + 2..at + 34].try_into().unwrap()
    }
}

async fn tiles_rebuild_every_root_and_proof(db: TestDb) {
    let ledger = db.ledger_with(|c| {
        c.ledger.checkpoint_every_entries = u64::MAX;
        c.ledger.checkpoint_every_seconds = u64::MAX / 2_000_000;
    });
    let (base, handle) = support::serve_ledger(ledger.clone()).await;
    let key = ledger.verifier().clone();
    // Sizes around tile edges at levels 0 and 1.
    let sizes = [
        1u64, 2, 255, 256, 257, 511, 512, 1000, 65_535, 65_536, 65_537, 66_000,
    ];
    let mut appended = 0u64;
    for &size in &sizes {
        let batch: Vec<_> = (appended..size).map(|n| entry("test.tile", n)).collect();
        for chunk in batch.chunks(5000) {
            ledger.append_batch(chunk.to_vec()).unwrap();
        }
        appended = size;
        ledger.checkpoint_now().unwrap();
        let (mut client, root) = TileClient::open(base.clone(), &key).await;
        assert_eq!(client.tree_size, size);
        assert_eq!(client.range(0, size).await, root, "root at size {size}");
        // The library's reader, from the same tiles, agrees.
        let mut reader = TileReader::new(size, |id: &TileId| ledger.tile(id).ok().flatten());
        assert_eq!(reader.root().unwrap(), root);
        for index in [0, size / 3, size / 2, size - 1] {
            let path = client.inclusion_path(index).await;
            assert_eq!(reader.inclusion_path(index).unwrap(), path);
            let proof = ledger.inclusion_proof(index, Some(size)).unwrap();
            assert_eq!(path, proof.hashes, "proof of {index} at size {size}");
            let entry_hash = client.entry_hash(index).await;
            assert_eq!(entry_hash, proof.entry_hash);
            // The client verifies the entry with tiles and the key alone.
            verify_inclusion(index, size, &leaf_hash(&entry_hash), &path, &root).unwrap();
            // And the entry as the ledger reports it hashes to the same leaf.
            let stored = ledger.entry(index).unwrap().unwrap();
            assert_eq!(stored.entry_hash, entry_hash);
        }
    }
    // 66,000 leaves: 257 full level-0 tiles and tile 257 partial, of width
    // 208; any narrower prefix of it is served too, wider or full is not.
    let http = reqwest::Client::new();
    let status = |path: &'static str| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.get(format!("{base}/{path}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for path in [
        "tile/0/257.p/208",
        "tile/0/257.p/200",
        "tile/2/000.p/1",
        "tile/entries/257.p/208",
    ] {
        assert_eq!(status(path).await, 200, "{path}");
    }
    for path in [
        "tile/0/257",
        "tile/0/257.p/209",
        "tile/0/258",
        "tile/2/000",
        "tile/3/000.p/1",
        "tile/0/x000/001",
        "tile/00/000",
        "tile/entries/000.p/0",
        "tile/64/000",
        "tile/0/1",
    ] {
        assert_eq!(status(path).await, 404, "{path}");
    }
    // The one-step verifier: `tellonce ledger check-entry` with the key alone.
    let check = |seq: &str, key: String| {
        let url = base.trim_end_matches("/ledger").to_string();
        let seq = seq.to_string();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_tellonce"))
                .args(["ledger", "check-entry", &seq, "--url", &url, "--key", &key])
                .output()
                .unwrap()
        })
    };
    let out = check("65999", key.to_vkey()).await.unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("entry 65999 (entry hash ")
            && said.contains("is in the ledger of 66000 entries"),
        "{said}"
    );
    let stranger = tellonce::ledger::NoteSigner::generate(
        "tellonce.gov.uk/ledger",
        tellonce::ledger::KeyAlgorithm::Ed25519,
    )
    .unwrap();
    let out = check("5", stranger.verifier().to_vkey()).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is it the right key?"));
    let out = check("66000", key.to_vkey()).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in the latest published checkpoint"));
    handle.stop(true).await;
}

#[actix_web::test]
async fn tiles_rebuild_every_root_and_proof_sqlite() {
    tiles_rebuild_every_root_and_proof(TestDb::sqlite()).await;
}

#[actix_web::test]
async fn tiles_rebuild_every_root_and_proof_postgres() {
    tiles_rebuild_every_root_and_proof(TestDb::postgres()).await;
}
