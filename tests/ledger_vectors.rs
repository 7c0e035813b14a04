//! The RFC 6962 inclusion and consistency proof vectors (transparency-dev/merkle).

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use tellonce::ledger::merkle::{verify_consistency, verify_inclusion};

fn vectors_dir() -> PathBuf {
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/rfc6962");
    if local.exists() {
        local
    } else {
        PathBuf::from("/work/shared/vectors/rfc6962")
    }
}

fn cases(kind: &str) -> Vec<(PathBuf, serde_json::Value)> {
    let mut out = Vec::new();
    let mut stack = vec![vectors_dir().join(kind)];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "json") {
                let v = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                out.push((path, v));
            }
        }
    }
    out
}

fn b64(v: &serde_json::Value) -> Vec<u8> {
    BASE64
        .decode(v.as_str().unwrap_or(""))
        .expect("vector base64")
}

fn proof(v: &serde_json::Value) -> Vec<Vec<u8>> {
    v.as_array()
        .map(|a| a.iter().map(b64).collect())
        .unwrap_or_default()
}

#[test]
fn every_inclusion_vector() {
    let cases = cases("inclusion");
    assert!(
        cases.len() > 50,
        "found only {} inclusion vectors",
        cases.len()
    );
    for (path, c) in cases {
        let result = verify_inclusion(
            c["leafIdx"].as_u64().unwrap(),
            c["treeSize"].as_u64().unwrap(),
            &b64(&c["leafHash"]),
            &proof(&c["proof"]),
            &b64(&c["root"]),
        );
        let want_err = c["wantErr"].as_bool().unwrap();
        assert_eq!(result.is_err(), want_err, "{}: {result:?}", path.display());
    }
}

#[test]
fn every_consistency_vector() {
    let cases = cases("consistency");
    assert!(
        cases.len() > 50,
        "found only {} consistency vectors",
        cases.len()
    );
    for (path, c) in cases {
        let result = verify_consistency(
            c["size1"].as_u64().unwrap(),
            c["size2"].as_u64().unwrap(),
            &b64(&c["root1"]),
            &b64(&c["root2"]),
            &proof(&c["proof"]),
        );
        let want_err = c["wantErr"].as_bool().unwrap();
        assert_eq!(result.is_err(), want_err, "{}: {result:?}", path.display());
    }
}
