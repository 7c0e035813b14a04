//! The ledger's GraphQL fields (in a schema of their own, as the hub merges
//! them) and `GET /ledger/checkpoint` on a real server.

mod support;

use async_graphql::{EmptyMutation, EmptySubscription, Schema};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Value};
use tellonce::hub::ledger::LedgerQuery;
use tellonce::ledger::checkpoint::{cosign, verify_note, SignedNote};
use tellonce::ledger::merkle::{verify_consistency, verify_inclusion};
use tellonce::ledger::{KeyAlgorithm, NoteSigner, Receipt};

use support::{entry, TestDb};

type LedgerSchema = Schema<LedgerQuery, EmptyMutation, EmptySubscription>;

async fn run(schema: &LedgerSchema, query: &str) -> Value {
    serde_json::to_value(schema.execute(query).await).unwrap()
}

fn unbase64(v: &Value) -> Vec<u8> {
    BASE64.decode(v.as_str().unwrap()).unwrap()
}

fn error_code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
}

async fn graphql_fields(db: TestDb) {
    let ledger = db.ledger_with(|c| c.ledger.checkpoint_every_entries = 4);
    let alice = ledger.subject_hash("nino:AB123456C");
    for n in 0..10 {
        let mut e = entry(if n < 5 { "test.first" } else { "test.second" }, n);
        if n == 6 {
            e.subject = Some(alice);
        }
        ledger.append(e).unwrap();
    }
    ledger.erase(2, "operator:jo", "requested").unwrap();
    let schema = Schema::build(LedgerQuery, EmptyMutation, EmptySubscription)
        .data(ledger.clone())
        .finish();

    let v = run(&schema, "{ ledgerEntry(seq: 1) { seq kind actor payload erased entryHash recordedAt receipt { seq entryHash signature } } }").await;
    let e = &v["data"]["ledgerEntry"];
    assert_eq!(e["seq"], 1, "{v}");
    assert_eq!(e["payload"]["n"], 1);
    assert_eq!(e["erased"], false);
    let receipt = Receipt {
        seq: 1,
        entry_hash: unbase64(&e["receipt"]["entryHash"]).try_into().unwrap(),
        signature: BASE64
            .decode(e["receipt"]["signature"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap(),
    };
    assert!(receipt.verify(ledger.verifier()));
    let v = run(
        &schema,
        "{ ledgerEntry(seq: 2) { payload erased } missing: ledgerEntry(seq: 500) { seq } }",
    )
    .await;
    assert_eq!(
        v["data"]["ledgerEntry"],
        json!({"payload": null, "erased": true}),
        "{v}"
    );
    assert_eq!(v["data"]["missing"], Value::Null);

    // Cursor pagination: pages of 4 walk every entry once.
    let mut after: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let arg = after
            .as_ref()
            .map(|a| format!(", after: \"{a}\""))
            .unwrap_or_default();
        let v = run(&schema, &format!("{{ ledgerEntries(first: 4{arg}) {{ edges {{ cursor node {{ seq }} }} pageInfo {{ hasNextPage endCursor }} }} }}")).await;
        let conn = &v["data"]["ledgerEntries"];
        for edge in conn["edges"].as_array().unwrap() {
            assert_eq!(
                edge["cursor"].as_str().unwrap(),
                edge["node"]["seq"].to_string()
            );
            seen.push(edge["node"]["seq"].as_i64().unwrap());
        }
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = conn["pageInfo"]["endCursor"].as_str().map(String::from);
    }
    assert_eq!(seen, (0..11).collect::<Vec<i64>>());
    let v = run(&schema, "{ ledgerEntries(kind: \"test.second\", first: 2) { edges { node { seq } } pageInfo { hasNextPage endCursor } } }").await;
    assert_eq!(
        v["data"]["ledgerEntries"]["edges"],
        json!([{"node": {"seq": 5}}, {"node": {"seq": 6}}]),
        "{v}"
    );
    assert_eq!(
        v["data"]["ledgerEntries"]["pageInfo"],
        json!({"hasNextPage": true, "endCursor": "6"})
    );
    let q = format!(
        "{{ ledgerEntries(subject: \"{}\") {{ edges {{ node {{ seq subject }} }} }} }}",
        BASE64.encode(alice)
    );
    let v = run(&schema, &q).await;
    assert_eq!(
        v["data"]["ledgerEntries"]["edges"][0]["node"]["seq"], 6,
        "{v}"
    );
    assert_eq!(
        v["data"]["ledgerEntries"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Proofs verify against the served roots.
    let v = run(&schema, "{ inclusionProof(seq: 6, treeSize: 9) { seq treeSize leafHash rootHash hashes } consistencyProof(from: 3, to: 9) { fromRoot toRoot hashes } }").await;
    let p = &v["data"]["inclusionProof"];
    let hashes: Vec<Vec<u8>> = p["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(unbase64)
        .collect();
    verify_inclusion(
        6,
        9,
        &unbase64(&p["leafHash"]),
        &hashes,
        &unbase64(&p["rootHash"]),
    )
    .unwrap();
    let c = &v["data"]["consistencyProof"];
    let hashes: Vec<Vec<u8>> = c["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(unbase64)
        .collect();
    verify_consistency(
        3,
        9,
        &unbase64(&c["fromRoot"]),
        &unbase64(&c["toRoot"]),
        &hashes,
    )
    .unwrap();
    assert_eq!(c["toRoot"], p["rootHash"]);

    // Without a tree size, proofs are for the latest checkpoint (size 8 of
    // the 10 entries), whose signed root they check against.
    let v = run(&schema, "{ inclusionProof(seq: 6) { treeSize rootHash } consistencyProof(from: 3) { to toRoot } latestCheckpoint { treeSize rootHash } }").await;
    assert_eq!(v["data"]["latestCheckpoint"]["treeSize"], 8, "{v}");
    assert_eq!(v["data"]["inclusionProof"]["treeSize"], 8, "{v}");
    assert_eq!(v["data"]["consistencyProof"]["to"], 8, "{v}");
    assert_eq!(
        v["data"]["inclusionProof"]["rootHash"],
        v["data"]["latestCheckpoint"]["rootHash"]
    );
    assert_eq!(
        v["data"]["consistencyProof"]["toRoot"],
        v["data"]["latestCheckpoint"]["rootHash"]
    );

    // Bad input gets BAD_USER_INPUT.
    for q in [
        "{ inclusionProof(seq: 1, treeSize: 12) { seq } }",
        "{ inclusionProof(seq: 9, treeSize: 9) { seq } }",
        "{ consistencyProof(from: 2, to: 99) { to } }",
        "{ consistencyProof(from: 0, to: 3) { to } }",
        "{ ledgerEntry(seq: -1) { seq } }",
        "{ ledgerEntries(after: \"x\") { pageInfo { hasNextPage } } }",
        "{ ledgerEntries(first: 5000) { pageInfo { hasNextPage } } }",
        "{ ledgerEntries(subject: \"AB123456C\") { pageInfo { hasNextPage } } }",
    ] {
        let v = run(&schema, q).await;
        assert_eq!(error_code(&v), "BAD_USER_INPUT", "{q}: {v}");
    }

    let v = run(
        &schema,
        "{ latestCheckpoint { treeSize rootHash note cosignatures } }",
    )
    .await;
    let cp = &v["data"]["latestCheckpoint"];
    assert_eq!(cp["treeSize"], 8, "{v}");
    let parsed = verify_note(cp["note"].as_str().unwrap(), ledger.verifier(), None).unwrap();
    assert_eq!(BASE64.encode(parsed.root), cp["rootHash"].as_str().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn graphql_fields_sqlite() {
    graphql_fields(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn graphql_fields_postgres() {
    graphql_fields(TestDb::postgres()).await;
}

#[actix_web::test]
async fn checkpoint_over_http_with_cosignatures() {
    let db = TestDb::sqlite();
    let witness = NoteSigner::generate("witness.example", KeyAlgorithm::Cosignature).unwrap();
    let vkey = witness.verifier().to_vkey();
    let ledger = db.ledger_with(|c| c.ledger.witness_keys = vec![vkey.clone()]);
    let (base, stop) = support::serve_ledger(ledger.clone()).await;
    let url = format!("{base}/checkpoint");
    let client = reqwest::Client::new();

    // A new ledger serves the checkpoint of the empty tree.
    let res = client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let empty = res.text().await.unwrap();
    assert!(
        empty.starts_with(
            "tellonce.gov.uk/ledger\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        ),
        "{empty}"
    );
    verify_note(&empty, ledger.verifier(), Some("tellonce.gov.uk/ledger")).unwrap();

    ledger.append(entry("test.http", 0)).unwrap();
    ledger.checkpoint_now().unwrap();
    let cp = ledger.latest_checkpoint().unwrap().unwrap();
    let line = cosign(
        &SignedNote::parse(&cp.note).unwrap().body,
        &witness,
        1_800_000_000,
    );
    let post = |body: String, query: &str| {
        client
            .post(format!("{url}/cosignatures{query}"))
            .body(body)
            .send()
    };
    // Refused, each with the reason: nothing to add, not a cosignature line,
    // a witness the hub does not know, a checkpoint that was never issued.
    let res = post("\n".into(), "").await.unwrap();
    assert_eq!(res.status(), 400);
    let res = post("hello\n".into(), "").await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().starts_with("line 1: "));
    let stranger = NoteSigner::generate("witness.example", KeyAlgorithm::Cosignature).unwrap();
    let body = SignedNote::parse(&cp.note).unwrap().body;
    let res = post(cosign(&body, &stranger, 1_800_000_000), "")
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("not by a configured witness key"));
    let res = post(line.clone(), "?size=999").await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(ledger
        .latest_checkpoint()
        .unwrap()
        .unwrap()
        .cosignatures
        .is_empty());

    // Accepted: the answer is the note as now served.
    let res = post(format!("{line}\n"), "?size=1").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().ends_with(&format!("{line}\n")));

    let res = client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let note = res.text().await.unwrap();
    assert!(note.starts_with("tellonce.gov.uk/ledger\n1\n"), "{note}");
    assert!(note.ends_with(&format!("{line}\n")), "{note}");
    verify_note(&note, ledger.verifier(), Some("tellonce.gov.uk/ledger")).unwrap();
    stop.stop(true).await;
}
