//! A citizen's data trail through the public surface, on both backends:
//! `myDataTrail` for a citizen credential lists every life event about them
//! (none about anyone else), which department was told which fields by which
//! rule and when, each with an inclusion proof that an RFC 6962 verifier of
//! the test's own checks against the signed checkpoint; pages by cursor; is
//! refused to anyone else; and `tellonce trail --subject` prints the same as
//! JSON for a subject access request.

mod tellonce_support;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tellonce_support::*;

const CITIZEN_KEY: &str = "tok_test-citizen-0123456789abcdef";
const TRAIL: &str = "query Trail($first: Int, $after: String) {
  myDataTrail(first: $first, after: $after) {
    edges { cursor node { eventId type ledgerSeq recordedAt entryHash
      told { department rule fields status deliveredAt }
      inclusionProof { leafIndex treeSize leafHash rootHash hashes } } }
    pageInfo { hasNextPage endCursor }
    checkpoint { treeSize rootHash note }
  }
}";

fn add_citizen(db: &TestDb, nino: &str) {
    use tellonce::auth::api_keys::{add_with_key, NewPrincipal};
    let store = tellonce::store::Store::open(&db.url).expect("open the database");
    add_with_key(
        &store,
        NewPrincipal {
            name: "test-citizen".into(),
            kind: tellonce::auth::PrincipalKind::Citizen,
            scopes: Default::default(),
            department: None,
            nino: Some(nino.into()),
        },
        CITIZEN_KEY.into(),
    )
    .expect("add the citizen");
}

async fn as_key(url: &str, key: &str, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(url)
        .header("authorization", format!("Bearer {key}"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON")
}

fn b64(text: &Value) -> Vec<u8> {
    BASE64
        .decode(text.as_str().expect("base64 text"))
        .expect("base64")
}

/// RFC 9162 section 2.1.3.2, written here so the hub's own code is not the judge.
fn root_from_inclusion(index: u64, size: u64, leaf: &[u8], path: &[Vec<u8>]) -> Option<Vec<u8>> {
    let node = |l: &[u8], r: &[u8]| -> Vec<u8> {
        let mut h = Sha256::new();
        h.update([1u8]);
        h.update(l);
        h.update(r);
        h.finalize().to_vec()
    };
    if index >= size {
        return None;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = leaf.to_vec();
    for p in path {
        if snode == 0 {
            return None;
        }
        if fnode % 2 == 1 || fnode == snode {
            r = node(p, &r);
            if fnode % 2 == 0 {
                while fnode % 2 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    (snode == 0).then_some(r)
}

async fn a_citizen_sees_who_was_told_what_about_them_with_proofs(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
    config.ledger.checkpoint_every_entries = 1;
    let hub = start_hub_on(&config).await;
    let url = hub.graphql_url();
    // A person the example departments hold records for.
    let me = "JK528194C".to_string();
    add_citizen(&db, &me);

    let moved = json!({ "changeOfAddress": { "nino": me, "movedOn": "2026-08-01",
        "address": { "line1": "1 High Street", "town": "Leeds", "postcode": "LS1 4AP" } } });
    let renamed = json!({ "changeOfName": { "nino": me, "newGivenNames": "Sam",
        "newFamilyName": "Example", "effectiveOn": "2026-08-02" } });
    let mine = [
        tell(&url, moved, "trail-moved").await,
        tell(&url, renamed, "trail-renamed").await,
    ];
    tell(&url, death(61), "trail-someone-else").await;
    all_notifications(&url, mine[0]["eventId"].as_str().unwrap(), "DELIVERED").await;
    // A checkpoint after the last entry, so each proof leads to a signed root.
    tell(&url, death(62), "trail-later").await;

    let body = eventually(
        "a signed checkpoint covering both events",
        std::time::Duration::from_secs(30),
        || async {
            let body = as_key(&url, CITIZEN_KEY, TRAIL, json!({})).await;
            assert!(body.get("errors").is_none(), "{body}");
            let edges = body["data"]["myDataTrail"]["edges"].as_array()?;
            edges
                .iter()
                .all(|e| e["node"]["inclusionProof"].is_object())
                .then_some(body.clone())
        },
    )
    .await;
    let trail = &body["data"]["myDataTrail"];
    let edges = trail["edges"].as_array().expect("edges");
    let ids: Vec<&Value> = edges.iter().map(|e| &e["node"]["eventId"]).collect();
    assert_eq!(
        ids,
        vec![&mine[0]["eventId"], &mine[1]["eventId"]],
        "their events only, oldest first: {trail}"
    );
    // HM Passport Office pulls its feed: the change of name waits for it.
    let passport = &edges[1]["node"]["told"][0];
    assert_eq!(passport["department"], "passport-office", "{trail}");
    assert_eq!(passport["status"], "AWAITING_ACKNOWLEDGEMENT", "{trail}");
    assert!(passport["deliveredAt"].is_null(), "{trail}");
    assert_eq!(edges[1]["node"]["told"][1]["department"], "dvla", "{trail}");
    let first = &edges[0]["node"];
    assert_eq!(first["type"], "changeOfAddress");
    let told = first["told"].as_array().expect("told");
    assert!(!told.is_empty(), "{first}");
    for notice in told {
        assert_eq!(notice["status"], "DELIVERED", "{notice}");
        assert!(notice["deliveredAt"].is_string(), "{notice}");
        assert!(
            notice["fields"].as_array().is_some_and(|f| !f.is_empty()),
            "names the fields: {notice}"
        );
        assert!(notice["rule"].is_string());
    }

    let checkpoint = &trail["checkpoint"];
    let root = b64(&checkpoint["rootHash"]);
    let note = checkpoint["note"].as_str().expect("a signed note");
    assert!(
        note.lines().nth(2) == checkpoint["rootHash"].as_str(),
        "the note signs this root: {note}"
    );
    for edge in edges {
        let proof = &edge["node"]["inclusionProof"];
        assert_eq!(proof["treeSize"], checkpoint["treeSize"], "{proof}");
        assert_eq!(proof["leafIndex"], edge["node"]["ledgerSeq"]);
        let path: Vec<Vec<u8>> = proof["hashes"]
            .as_array()
            .expect("hashes")
            .iter()
            .map(b64)
            .collect();
        let computed = root_from_inclusion(
            proof["leafIndex"].as_u64().unwrap(),
            proof["treeSize"].as_u64().unwrap(),
            &b64(&proof["leafHash"]),
            &path,
        );
        assert_eq!(
            computed.as_deref(),
            Some(root.as_slice()),
            "the proof holds: {proof}"
        );
        // A tampered path does not.
        let mut tampered = b64(&proof["leafHash"]);
        tampered[0] ^= 1;
        let wrong = root_from_inclusion(
            proof["leafIndex"].as_u64().unwrap(),
            proof["treeSize"].as_u64().unwrap(),
            &tampered,
            &path,
        );
        assert_ne!(wrong.as_deref(), Some(root.as_slice()));
    }

    // Paging by cursor.
    let page = as_key(&url, CITIZEN_KEY, TRAIL, json!({ "first": 1 })).await;
    let page = &page["data"]["myDataTrail"];
    assert_eq!(page["edges"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let rest = as_key(
        &url,
        CITIZEN_KEY,
        TRAIL,
        json!({ "after": page["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(
        rest["data"]["myDataTrail"]["edges"][0]["node"]["eventId"], mine[1]["eventId"],
        "{rest}"
    );

    // Anyone else is refused.
    for key in [OPERATOR_KEY, REGISTRAR_KEY] {
        let refused = as_key(&url, key, TRAIL, json!({})).await;
        assert!(
            refused["errors"].as_array().is_some_and(|e| !e.is_empty()),
            "{refused}"
        );
        assert!(refused["data"]["myDataTrail"].is_null(), "{refused}");
    }

    // The same for a subject access request, from the command line.
    let run = |subject: &str| tellonce_cli(&db, &["trail", "--subject", subject]);
    let output = run(&me.to_lowercase());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let cli_ids: Vec<&Value> = document["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| &e["eventId"])
        .collect();
    assert_eq!(cli_ids, ids, "{document}");
    assert!(document["events"][0]["inclusionProof"]["hashes"].is_array());
    assert!(document["events"][0]["told"][0]["fields"].is_array());
    let refused = run("not-an-identifier");
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("National Insurance number"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    hub.stop().await;
}
both_backends!(
    data_trail,
    a_citizen_sees_who_was_told_what_about_them_with_proofs
);
