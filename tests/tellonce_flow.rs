//! Tell us once through the public surface: a hub over the example
//! departments, life events submitted over HTTP, delivery observed in the
//! departments' own notification logs and in the database.

mod tellonce_support;

use std::net::TcpListener;

use serde_json::json;
use tellonce_departments::Department;
use tellonce_support::*;

async fn start_hub(db: &TestDb, departments: &Departments) -> tellonce::server::RunningHub {
    let config = hub_config(db, departments.subgraphs(|_, url| url));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    tellonce::server::start_on(&config, listener)
        .await
        .expect("hub starts")
}

async fn death_is_told_once_to_every_department_that_must_know(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let hub = start_hub(&db, &departments).await;
    let url = hub.graphql_url();

    let receipt = tell(&url, death(1), "death-1").await;
    assert_eq!(
        receipt["departments"],
        json!([
            "hmrc",
            "dwp",
            "dvla",
            "passport-office",
            "local-council",
            "veterans-uk",
            "civil-service-pension"
        ])
    );
    assert_eq!(receipt["entryHash"].as_str().map(str::len), Some(44));
    let id = receipt["eventId"].as_str().expect("event id").to_owned();

    // The same key and event: the same receipt, nothing new written.
    let again = tell(&url, death(1), "death-1").await;
    assert_eq!(again, receipt);
    // The same key, another event: CONFLICT.
    let conflict = graphql(&url, TELL, json!({ "event": death(2), "key": "death-1" })).await;
    assert_eq!(
        conflict["errors"][0]["extensions"]["code"], "CONFLICT",
        "{conflict}"
    );

    let event = all_notifications(&url, &id, "DELIVERED").await;
    assert_eq!(event["type"], "DEATH");
    assert_eq!(event["ledgerSeq"], receipt["ledgerSeq"]);
    for department in [
        Department::Hmrc,
        Department::Dwp,
        Department::Dvla,
        Department::PassportOffice,
        Department::LocalCouncil,
        Department::VeteransUk,
        Department::CivilServicePension,
    ] {
        let (count, keys) = departments.log(department).await;
        assert_eq!(count, 1, "{department}");
        assert_eq!(keys, vec![format!("{id}:{}", department.name())]);
    }
    assert_eq!(departments.log(Department::CompaniesHouse).await.0, 0);
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM tellonce_events"), 1);
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM tellonce_outbox"), 7);
    // The ledger: the event and seven deliveries, never the raw NINO.
    let payloads = db.ledger_payloads();
    assert_eq!(payloads.len(), 8, "{payloads:?}");
    assert!(
        payloads.iter().all(|p| !p.contains(&nino(1))),
        "{payloads:?}"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM ledger_entries WHERE kind = 'tellonce.notification.delivered'"),
        7
    );
    hub.stop().await;
}
both_backends!(
    death_is_told_once,
    death_is_told_once_to_every_department_that_must_know
);

async fn bad_identifiers_are_refused_and_nothing_is_written(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let hub = start_hub(&db, &departments).await;
    let url = hub.graphql_url();

    let cases = [
        (
            json!({ "death": { "nino": "AB123456E", "givenNames": "A", "familyName": "B", "dateOfDeath": "2026-10-01" } }),
            "event.death.nino",
            "NINO_SUFFIX",
        ),
        (
            json!({ "changeOfAddress": { "nino": "AB123456C", "movedOn": "2026-10-01",
                "address": { "line1": "1 High St", "town": "Leeds", "postcode": "QA1 1AA" } } }),
            "event.changeOfAddress.address.postcode",
            "POSTCODE_FORMAT",
        ),
        (
            json!({ "businessRegistered": { "companyNumber": "XX123456", "companyName": "Acme Ltd",
                "companyType": "PRIVATE_LIMITED_COMPANY", "incorporatedOn": "2026-10-01",
                "registeredOffice": { "line1": "1 High St", "town": "Leeds", "postcode": "LS1 4AP" } } }),
            "event.businessRegistered.companyNumber",
            "COMPANY_NUMBER_PREFIX",
        ),
        (
            json!({ "businessRegistered": { "companyNumber": "SC512847", "companyName": "Acme Ltd",
                "companyType": "PRIVATE_LIMITED_COMPANY", "incorporatedOn": "2026-10-01",
                "registeredOffice": { "line1": "1 High St", "town": "Leeds", "postcode": "LS1 4AP" },
                "vatNumber": "GB339072748" } }),
            "event.businessRegistered.vatNumber",
            "VAT_CHECK_DIGITS",
        ),
        (
            json!({ "businessRegistered": { "companyNumber": "SC512847", "companyName": "Acme Ltd",
                "companyType": "PRIVATE_LIMITED_COMPANY", "incorporatedOn": "2026-10-01",
                "registeredOffice": { "line1": "1 High St", "town": "Leeds", "postcode": "LS1 4AP" },
                "eori": "GB12345" } }),
            "event.businessRegistered.eori",
            "EORI_FORMAT",
        ),
        (
            json!({ "businessCeased": { "companyNumber": "SC512847", "ceasedOn": "2026-10-01", "utr": "1234567890" } }),
            "event.businessCeased.utr",
            "UTR_CHECK_DIGIT",
        ),
    ];
    for (i, (event, field, rule)) in cases.into_iter().enumerate() {
        let body = graphql(
            &url,
            TELL,
            json!({ "event": event, "key": format!("bad-{i}") }),
        )
        .await;
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(error["extensions"]["field"], field, "{body}");
        assert_eq!(error["extensions"]["rule"], rule, "{body}");
        assert!(
            error["message"].as_str().is_some_and(|m| m.contains(field)),
            "{body}"
        );
    }
    // Two event fields at once breaks @oneOf.
    let two = json!({ "death": death(3)["death"], "changeOfName": { "nino": nino(3),
        "newGivenNames": "A", "newFamilyName": "B", "effectiveOn": "2026-10-01" } });
    let body = graphql(&url, TELL, json!({ "event": two, "key": "two" })).await;
    assert!(body["errors"].is_array(), "{body}");

    assert_eq!(db.count("SELECT COUNT(*) AS n FROM tellonce_events"), 0);
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM tellonce_outbox"), 0);
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM ledger_entries"), 0);
    hub.stop().await;
}
both_backends!(
    bad_identifiers,
    bad_identifiers_are_refused_and_nothing_is_written
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn address_and_business_events_reach_their_departments_with_only_their_fields() {
    let db = TestDb::sqlite();
    let departments = Departments::start().await;
    let hub = start_hub(&db, &departments).await;
    let url = hub.graphql_url();

    let moved = tell(
        &url,
        json!({ "changeOfAddress": { "nino": "JK528194C", "movedOn": "2026-09-01",
            "address": { "line1": "2 New Road", "town": "York", "postcode": "yo1 7hh" } } }),
        "move-1",
    )
    .await;
    assert_eq!(
        moved["departments"],
        json!(["hmrc", "dwp", "dvla", "local-council"])
    );
    let registered = tell(
        &url,
        json!({ "businessRegistered": { "companyNumber": "SC990001", "companyName": "Thistle Widgets Ltd",
            "companyType": "PRIVATE_LIMITED_COMPANY", "incorporatedOn": "2026-10-01",
            "registeredOffice": { "line1": "1 Castle St", "town": "Edinburgh", "postcode": "EH1 2NG" },
            "sicCodes": ["62012"], "vatNumber": "GB339072747" } }),
        "company-1",
    )
    .await;
    assert_eq!(
        registered["departments"],
        json!(["companies-house", "hmrc"])
    );
    for receipt in [&moved, &registered] {
        all_notifications(&url, receipt["eventId"].as_str().unwrap(), "DELIVERED").await;
    }
    assert_eq!(departments.log(Department::Hmrc).await.0, 2);
    assert_eq!(departments.log(Department::Dwp).await.0, 1);
    assert_eq!(departments.log(Department::Dvla).await.0, 1);
    assert_eq!(departments.log(Department::LocalCouncil).await.0, 1);
    assert_eq!(departments.log(Department::CompaniesHouse).await.0, 1);
    assert_eq!(departments.log(Department::PassportOffice).await.0, 0);
    // York is outside the councils connected: Harrogate's council closes what it holds.
    let council = graphql(
        &url,
        "{ taxpayer(nino: \"JK528194C\") { councilTaxAccounts { status closedOn } electoralRegistration { status } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        council["data"]["taxpayer"],
        json!({ "councilTaxAccounts": [{ "status": "CLOSED_MOVED_OUT", "closedOn": "2026-09-01" }],
            "electoralRegistration": { "status": "REMOVED_MOVED_OUT" } }),
        "{council}"
    );

    // HMRC registered the company for corporation tax; read it through the hub.
    let company = graphql(
        &departments.url(Department::CompaniesHouse),
        "{ company(companyNumber: \"SC990001\") { companyName } }",
        json!({}),
    )
    .await;
    assert_eq!(
        company["data"]["company"]["companyName"], "THISTLE WIDGETS LTD",
        "{company}"
    );
    // Need to know: the HMRC corporation tax rule is told no VAT number.
    let stored = db.count(
        "SELECT COUNT(*) AS n FROM tellonce_outbox WHERE department = 'hmrc' AND variables LIKE '%339072747%'",
    );
    assert_eq!(stored, 0);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_joins_with_department_data_in_one_query() {
    let db = TestDb::sqlite();
    let departments = Departments::start().await;
    let hub = start_hub(&db, &departments).await;
    let url = hub.graphql_url();
    let receipt = tell(
        &url,
        json!({ "death": { "nino": "JK528194C", "givenNames": "J", "familyName": "K", "dateOfDeath": "2026-10-01" } }),
        "join-1",
    )
    .await;
    let id = receipt["eventId"].as_str().unwrap();
    all_notifications(&url, id, "DELIVERED").await;
    let body = graphql(
        &url,
        "query($id: ID!) { lifeEvent(id: $id) { type receivedAt ledgerSeq
            notifications { department status attempts deliveredAt }
            person { nino status dateOfDeath
                councilTaxAccounts { status } electoralRegistration { status }
                veteranServiceRecord { pensions { status endedOn } }
                civilServicePension { status dateOfDeath } } } }",
        json!({ "id": id }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let event = &body["data"]["lifeEvent"];
    assert_eq!(event["person"]["nino"], "JK528194C");
    // HMRC's own record, joined in by the federation executor.
    assert_eq!(event["person"]["status"], "DECEASED", "{body}");
    assert_eq!(event["person"]["dateOfDeath"], "2026-10-01");
    assert_eq!(event["notifications"].as_array().map(Vec::len), Some(7));
    // The council, Veterans UK and the pension scheme acted on it too.
    let person = &event["person"];
    assert_eq!(
        person["councilTaxAccounts"],
        json!([{ "status": "EXEMPT_DECEASED_ESTATE" }]),
        "{body}"
    );
    assert_eq!(
        person["electoralRegistration"]["status"],
        "REMOVED_DECEASED"
    );
    assert_eq!(
        person["veteranServiceRecord"]["pensions"],
        json!([{ "status": "ENDED_DECEASED", "endedOn": "2026-10-01" }])
    );
    assert_eq!(
        person["civilServicePension"],
        json!({ "status": "DECEASED", "dateOfDeath": "2026-10-01" })
    );

    let missing = graphql(&url, STATUS, json!({ "id": "no-such-event" })).await;
    assert_eq!(missing["data"]["lifeEvent"], serde_json::Value::Null);
    hub.stop().await;
}

async fn a_department_pulls_its_feed_and_acknowledges(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let hub = start_hub(&db, &departments).await;
    let url = hub.graphql_url();
    let mut ids = Vec::new();
    for n in 0..5u32 {
        let receipt = tell(
            &url,
            json!({ "changeOfName": { "nino": nino(n), "newGivenNames": "Sam", "newFamilyName": format!("New{n}"),
                "effectiveOn": "2026-10-01" } }),
            &format!("name-{n}"),
        )
        .await;
        assert_eq!(receipt["departments"], json!(["passport-office", "dvla"]));
        ids.push(receipt["eventId"].as_str().unwrap().to_owned());
    }
    let feed = "query($after: String) { lifeEventFeed(department: \"passport-office\", first: 2, after: $after) {
        edges { cursor node { eventId type ledgerSeq data status } } pageInfo { hasNextPage endCursor } } }";
    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let body = graphql(&url, feed, json!({ "after": after })).await;
        let page = &body["data"]["lifeEventFeed"];
        for edge in page["edges"].as_array().expect("edges") {
            assert_eq!(
                edge["cursor"].as_str().map(str::to_owned),
                edge["node"]["ledgerSeq"].as_i64().map(|s| s.to_string())
            );
            assert_eq!(edge["node"]["status"], "AWAITING_ACKNOWLEDGEMENT");
            assert_eq!(edge["node"]["type"], "CHANGE_OF_NAME");
            // Only the fields the rule names.
            let data = edge["node"]["data"].as_object().expect("data");
            let mut keys: Vec<&str> = data.keys().map(String::as_str).collect();
            keys.sort();
            assert_eq!(
                keys,
                ["effectiveOn", "newFamilyName", "newGivenNames", "nino"]
            );
            seen.push(edge["node"]["eventId"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ids);
    let ack = graphql(
        &url,
        "mutation($id: ID!) { acknowledgeLifeEvent(eventId: $id, department: \"passport-office\") { status acknowledgedAt } }",
        json!({ "id": ids[0] }),
    )
    .await;
    assert_eq!(
        ack["data"]["acknowledgeLifeEvent"]["status"], "ACKNOWLEDGED",
        "{ack}"
    );
    let unknown = graphql(
        &url,
        "mutation($id: ID!) { acknowledgeLifeEvent(eventId: $id, department: \"hmrc\") { status } }",
        json!({ "id": ids[0] }),
    )
    .await;
    assert_eq!(
        unknown["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{unknown}"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM ledger_entries WHERE kind = 'tellonce.notification.acknowledged'"),
        1
    );
    // Nothing was pushed.
    assert_eq!(departments.log(Department::PassportOffice).await.0, 0);
    hub.stop().await;
}
both_backends!(
    feed_and_acknowledge,
    a_department_pulls_its_feed_and_acknowledges
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rule_naming_a_field_that_does_not_exist_is_refused_with_its_name() {
    let db = TestDb::sqlite();
    let departments = Departments::start().await;
    // The built-in rules for every other event, so that each is routed, and
    // one bad rule for deaths.
    let routes = tempfile::tempdir().unwrap();
    for file in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/routes")).unwrap() {
        let path = file.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") && !path.ends_with("death.toml") {
            std::fs::copy(&path, routes.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    for (bad, expected) in [
        (
            "[[route]]\nname = \"death-hmrc-typo\"\nevent = \"death\"\ndepartment = \"hmrc\"\ndocument = \"\"\"mutation($nino: String!, $idempotencyKey: String!) { recordTaxpayerDemise(nino: $nino, idempotencyKey: $idempotencyKey) { receiptId } }\"\"\"\n[route.variables]\nnino = \"nino\"\n",
            "recordTaxpayerDemise",
        ),
        (
            "[[route]]\nname = \"death-dwp-path\"\nevent = \"death\"\ndepartment = \"dwp\"\ndocument = \"\"\"mutation($nino: String!, $dateOfDeath: Date!, $idempotencyKey: String!) { recordClaimantDeath(nino: $nino, dateOfDeath: $dateOfDeath, idempotencyKey: $idempotencyKey) { receiptId } }\"\"\"\n[route.variables]\nnino = \"nino\"\ndateOfDeath = \"diedOn\"\n",
            "diedOn",
        ),
        (
            "[[route]]\nname = \"death-nowhere\"\nevent = \"death\"\ndepartment = \"ministry-of-magic\"\n",
            "ministry-of-magic",
        ),
    ] {
        std::fs::write(routes.path().join("zz_bad.toml"), bad).unwrap();
        let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
        config.tellonce.routes_dir = Some(routes.path().to_path_buf());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let error = match tellonce::server::start_on(&config, listener).await {
            Ok(_) => panic!("a hub started with a bad rule"),
            Err(error) => error.to_string(),
        };
        let name = bad.split('"').nth(1).unwrap();
        assert!(error.contains(name), "{error}");
        assert!(error.contains(expected), "{error}");
    }
}

async fn dead_letters_are_visible_and_replayed(backend: &str) {
    let db = TestDb::of(backend);
    let mut departments = Departments::start().await;
    let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
    config.tellonce.max_attempts = 2;
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .expect("hub starts");
    let url = hub.graphql_url();
    departments.stop(Department::Dvla).await;
    let receipt = tell(&url, death(7), "dead-1").await;
    let id = receipt["eventId"].as_str().unwrap().to_owned();
    let dead = eventually(
        "a dead letter",
        std::time::Duration::from_secs(60),
        || async {
            let body = graphql(
                &url,
                "{ deadLetters { eventId department attempts lastError status } }",
                json!({}),
            )
            .await;
            let list = body["data"]["deadLetters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            (!list.is_empty()).then_some(list)
        },
    )
    .await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["department"], "dvla");
    assert_eq!(dead[0]["attempts"], 2);
    assert_eq!(dead[0]["status"], "DEAD_LETTER");
    assert!(dead[0]["lastError"].as_str().is_some_and(|e| !e.is_empty()));

    departments.restart(Department::Dvla).await;
    let replayed = graphql(
        &url,
        "mutation($id: ID!) { replayNotification(eventId: $id, department: \"dvla\") { status attempts } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        replayed["data"]["replayNotification"]["status"], "PENDING",
        "{replayed}"
    );
    all_notifications(&url, &id, "DELIVERED").await;
    assert_eq!(departments.log(Department::Dvla).await.0, 1);
    for kind in ["failed", "dead_lettered", "replayed"] {
        assert!(
            db.count(&format!("SELECT COUNT(*) AS n FROM ledger_entries WHERE kind = 'tellonce.notification.{kind}'")) >= 1,
            "{kind}"
        );
    }
    let none = graphql(
        &url,
        "mutation($id: ID!) { replayNotification(eventId: $id, department: \"dvla\") { status } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        none["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{none}"
    );
    hub.stop().await;
}
both_backends!(dead_letters, dead_letters_are_visible_and_replayed);

async fn births_partnerships_and_ceased_businesses_reach_their_departments(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let hub = start_hub(&db, &departments).await;
    let url = hub.graphql_url();

    let born = tell(
        &url,
        json!({ "birth": { "childGivenNames": "Ada", "childFamilyName": "Khan",
        "dateOfBirth": "2026-10-20", "parentNino": "JK528194C",
        "address": { "line1": "1 High Street", "town": "Leeds", "postcode": "LS1 4AP" } } }),
        "born-1",
    )
    .await;
    assert_eq!(born["departments"], json!(["hmrc", "local-council"]));
    let married = tell(&url, json!({ "marriageOrCivilPartnership": { "kind": "MARRIAGE",
        "firstPartnerNino": "JK528194C", "secondPartnerNino": "TW580173B", "date": "2026-09-12" } }), "married-1").await;
    assert_eq!(married["departments"], json!(["hmrc", "dwp"]));
    let ceased = tell(
        &url,
        json!({ "businessCeased": { "companyNumber": "SC512847", "ceasedOn": "2026-10-31" } }),
        "ceased-1",
    )
    .await;
    assert_eq!(ceased["departments"], json!(["hmrc", "companies-house"]));
    for receipt in [&born, &married, &ceased] {
        all_notifications(&url, receipt["eventId"].as_str().unwrap(), "DELIVERED").await;
    }
    // A change of name reaches DVLA (pushed) and HM Passport Office (its feed).
    let renamed = tell(
        &url,
        json!({ "changeOfName": { "nino": "JK528194C", "newGivenNames": "Jasmine",
        "newFamilyName": "Khan-Smith", "effectiveOn": "2026-09-12" } }),
        "renamed-1",
    )
    .await;
    assert_eq!(renamed["departments"], json!(["passport-office", "dvla"]));
    eventually(
        "DVLA told of the change of name",
        std::time::Duration::from_secs(30),
        || async { (departments.log(Department::Dvla).await.0 == 1).then_some(()) },
    )
    .await;
    assert_eq!(departments.log(Department::Hmrc).await.0, 3);
    assert_eq!(departments.log(Department::Dwp).await.0, 1);
    assert_eq!(departments.log(Department::LocalCouncil).await.0, 1);
    let household = graphql(
        &url,
        "{ taxpayer(nino: \"JK528194C\") { registeredChildren { givenNames familyName dateOfBirth } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        household["data"]["taxpayer"]["registeredChildren"],
        json!([{ "givenNames": "Ada", "familyName": "Khan", "dateOfBirth": "2026-10-20" }]),
        "{household}"
    );
    assert_eq!(departments.log(Department::CompaniesHouse).await.0, 1);
    let company = graphql(
        &departments.url(Department::CompaniesHouse),
        "{ company(companyNumber: \"SC512847\") { companyStatus dissolvedOn } }",
        json!({}),
    )
    .await;
    assert_eq!(
        company["data"]["company"],
        json!({ "companyStatus": "DISSOLVED", "dissolvedOn": "2026-10-31" }),
        "{company}"
    );
    // HMRC's Child Benefit rule is given no address, as the ledger records.
    let payload: serde_json::Value = db
        .ledger_payloads()
        .iter()
        .find(|p| p.contains(born["eventId"].as_str().unwrap()) && p.contains("\"told\""))
        .map(|p| serde_json::from_str(p).unwrap())
        .expect("the birth's ledger entry");
    assert_eq!(
        payload["told"][0]["fields"],
        json!([
            "childFamilyName",
            "childGivenNames",
            "dateOfBirth",
            "parentNino"
        ]),
        "{payload}"
    );
    hub.stop().await;

    // Rules that leave a kind of event untold are refused at start.
    let routes = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/schema/routes/death.toml"),
        routes.path().join("death.toml"),
    )
    .unwrap();
    let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
    config.tellonce.routes_dir = Some(routes.path().to_path_buf());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let error = match tellonce::server::start_on(&config, listener).await {
        Ok(_) => panic!("a hub started that would tell no one of births"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains("birth"), "{error}");
    assert!(error.contains("businessCeased"), "{error}");
    assert!(!error.contains("death,"), "{error}");
}
both_backends!(
    every_event_routed,
    births_partnerships_and_ceased_businesses_reach_their_departments
);
