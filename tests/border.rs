//! Border coordination through the public surface: a hub over the example
//! departments and agency subgraphs, consignments declared over HTTP, plans,
//! outcomes and release decisions read back through the graph and the
//! ledger, on SQLite and PostgreSQL.

mod border_support;
mod tellonce_support;

use std::net::TcpListener;
use std::time::Duration;

use border_support::*;
use serde_json::{json, Value};
use tellonce_departments::Agency;
use tellonce_support::{Departments, HubProcess, TestDb};

async fn start_hub(config: &tellonce::config::Config) -> tellonce::server::RunningHub {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    tellonce::server::start_on(config, listener)
        .await
        .expect("hub starts")
}

/// The first error's `extensions.code`.
fn code(response: &Value) -> &Value {
    &response["errors"][0]["extensions"]["code"]
}

fn part<'a>(plan: &'a Value, agency: &str) -> &'a Value {
    plan["assessments"]
        .as_array()
        .and_then(|parts| parts.iter().find(|p| p["agency"] == agency))
        .unwrap_or_else(|| panic!("{agency} has no part in {plan}"))
}

fn count_kind(db: &TestDb, kind: &str) -> usize {
    db.ledger_kinds().iter().filter(|k| *k == kind).count()
}

async fn live_animals_get_one_joint_inspection(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let agencies = Agencies::start().await;
    let hub = start_hub(&border_config(&db, &departments, &agencies)).await;
    let url = hub.graphql_url();

    let cattle = live_animals();
    let plan = declare(&url, cattle.clone(), "cattle-1").await;
    assert_eq!(plan["status"], "PLANNED", "{plan}");
    assert_eq!(plan["leadAgency"], "apha", "{plan}");
    assert_eq!(plan["location"], "GBSEV1", "{plan}");
    let inspections: Vec<&Value> = plan["interventions"]
        .as_array()
        .expect("interventions")
        .iter()
        .filter(|i| i["kind"] != "DOCUMENTARY" && i["kind"] != "SCAN")
        .collect();
    assert_eq!(inspections.len(), 1, "one joint inspection: {plan}");
    for agency in ["apha", "port-health", "border-force"] {
        assert!(
            inspections[0]["agencies"]
                .as_array()
                .expect("agencies")
                .contains(&json!(agency)),
            "{agency} is served by the joint inspection: {plan}"
        );
        assert_eq!(part(&plan, agency)["status"], "ANSWERED");
    }
    let saving = &plan["saving"];
    assert!(
        saving["inspectionsRequested"].as_i64() >= Some(3),
        "{saving}"
    );
    assert_eq!(saving["inspectionsScheduled"], 1, "{saving}");
    assert_eq!(
        saving["inspectionsAvoided"].as_i64(),
        saving["inspectionsRequested"].as_i64().map(|n| n - 1)
    );
    assert!(plan["decision"].is_null());
    assert_eq!(plan["revision"], 1);
    assert!(plan["ledgerSeq"].as_i64() > plan["declarationLedgerSeq"].as_i64());
    let id = plan["id"].as_str().expect("id").to_owned();

    // The same key and declaration: the same plan, nothing new written.
    let entries = db.ledger_kinds().len();
    let again = declare(&url, cattle, "cattle-1").await;
    assert_eq!(again["id"], plan["id"]);
    assert_eq!(db.ledger_kinds().len(), entries);
    // The same key, another declaration: CONFLICT.
    let conflict = call(
        &url,
        DECLARANT_KEY,
        &declare_query(),
        json!({ "declaration": plants_for_planting(), "key": "cattle-1" }),
    )
    .await;
    assert_eq!(code(&conflict), "CONFLICT", "{conflict}");

    // APHA's worklist holds the plan until APHA records its outcome.
    let worklist =
        "query W($agency: String!) { agencyWorklist(agency: $agency) { edges { node { id } } } }";
    let apha = call(
        &url,
        &agency_key("apha"),
        worklist,
        json!({ "agency": "apha" }),
    )
    .await;
    assert_eq!(
        apha["data"]["agencyWorklist"]["edges"][0]["node"]["id"],
        id.as_str(),
        "{apha}"
    );
    let foreign = call(
        &url,
        &agency_key("fsa"),
        worklist,
        json!({ "agency": "apha" }),
    )
    .await;
    assert_eq!(code(&foreign), "FORBIDDEN", "{foreign}");

    // Only the agency's own principal records its outcome.
    let outcome =
        |agency: &str, result: &str| json!({ "id": id, "agency": agency, "result": result });
    let other = call(
        &url,
        &agency_key("port-health"),
        &outcome_query(),
        outcome("apha", "SATISFACTORY"),
    )
    .await;
    assert_eq!(code(&other), "FORBIDDEN", "{other}");
    let declarant = call(
        &url,
        DECLARANT_KEY,
        &outcome_query(),
        outcome("apha", "SATISFACTORY"),
    )
    .await;
    assert_eq!(
        code(&declarant),
        "UNAUTHORIZED_FIELD_OR_TYPE",
        "{declarant}"
    );
    assert_eq!(count_kind(&db, "border.outcome.recorded"), 0);

    let mut last = Value::Null;
    let with_checks: Vec<String> = plan["assessments"]
        .as_array()
        .expect("parts")
        .iter()
        .filter(|p| {
            p["assessment"]["checks"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
        })
        .map(|p| p["agency"].as_str().expect("agency").to_owned())
        .collect();
    for agency in &with_checks {
        let recorded = call(
            &url,
            &agency_key(agency),
            &outcome_query(),
            outcome(agency, "SATISFACTORY"),
        )
        .await;
        assert!(recorded["errors"].is_null(), "{recorded}");
        last = recorded["data"]["recordInterventionOutcome"].clone();
    }
    // Recorded once: the same outcome again changes nothing, another is refused.
    let repeat = call(
        &url,
        &agency_key("apha"),
        &outcome_query(),
        outcome("apha", "SATISFACTORY"),
    )
    .await;
    assert!(repeat["errors"].is_null(), "{repeat}");
    let changed = call(
        &url,
        &agency_key("apha"),
        &outcome_query(),
        outcome("apha", "REFUSE_ENTRY"),
    )
    .await;
    assert_eq!(code(&changed), "CONFLICT", "{changed}");
    assert_eq!(
        count_kind(&db, "border.outcome.recorded"),
        with_checks.len()
    );

    assert_eq!(last["status"], "DECIDED", "{last}");
    assert_eq!(last["decision"]["decision"], "RELEASED", "{last}");
    assert_eq!(count_kind(&db, "border.release.decided"), 1);
    assert_eq!(count_kind(&db, "border.consignment.declared"), 1);
    let apha = call(
        &url,
        &agency_key("apha"),
        worklist,
        json!({ "agency": "apha" }),
    )
    .await;
    assert_eq!(apha["data"]["agencyWorklist"]["edges"], json!([]), "{apha}");

    // One query: the plan, and HMRC's and Companies House's records of the trader.
    let joined = call(
        &url,
        DECLARANT_KEY,
        "query J($id: ID!) { interventionPlan(id: $id) { status trader { eori name company { companyNumber companyName companyStatus } } } }",
        json!({ "id": id }),
    )
    .await;
    assert!(joined["errors"].is_null(), "{joined}");
    let trader = &joined["data"]["interventionPlan"]["trader"];
    assert_eq!(trader["name"], "NORTHERN HARVEST FOODS LIMITED", "{joined}");
    assert_eq!(trader["company"]["companyNumber"], "07451329", "{joined}");
    assert!(trader["company"]["companyName"].is_string(), "{joined}");

    // Running totals, and the cursor connection.
    let totals = call(&url, READER_KEY, "{ borderSaving { declarations inspectionsRequested inspectionsScheduled inspectionsAvoided } }", json!({})).await;
    assert_eq!(
        totals["data"]["borderSaving"]["declarations"], 1,
        "{totals}"
    );
    assert_eq!(
        totals["data"]["borderSaving"]["inspectionsAvoided"], saving["inspectionsAvoided"],
        "{totals}"
    );
    declare(&url, low_risk(), "laptops-1").await;
    let page = "query P($after: String) { consignments(trader: \"GB351608216000\", first: 1, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }";
    let first = call(&url, READER_KEY, page, json!({})).await;
    assert_eq!(
        first["data"]["consignments"]["edges"][0]["node"]["id"],
        id.as_str(),
        "{first}"
    );
    assert_eq!(
        first["data"]["consignments"]["pageInfo"]["hasNextPage"], false,
        "{first}"
    );
    let all = call(
        &url,
        READER_KEY,
        "{ consignments(first: 1) { edges { node { id } } pageInfo { hasNextPage endCursor } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        all["data"]["consignments"]["pageInfo"]["hasNextPage"], true,
        "{all}"
    );
    let anonymous_plan = call(
        &url,
        "tok_nobody-0123456789abcdef0000",
        &plan_query(),
        json!({ "id": id }),
    )
    .await;
    assert_eq!(code(&anonymous_plan), "UNAUTHENTICATED", "{anonymous_plan}");
    // Concurrent repeats (written in one batch or several): one consignment.
    let burst = plants_for_planting();
    let repeats: Vec<_> = (0..8)
        .map(|_| {
            let (url, burst) = (url.clone(), burst.clone());
            tokio::spawn(async move { declare(&url, burst, "plants-burst").await })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for repeat in repeats {
        ids.insert(repeat.await.expect("declare")["id"].to_string());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(
        db.count(
            "SELECT COUNT(*) AS n FROM border_consignments WHERE idempotency_key = 'plants-burst'"
        ),
        1
    );
    hub.stop().await;
}
both_backends!(live_animals, live_animals_get_one_joint_inspection);

async fn each_kind_of_consignment_gets_its_agencies(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let agencies = Agencies::start().await;
    let hub = start_hub(&border_config(&db, &departments, &agencies)).await;
    let url = hub.graphql_url();

    let plants = declare(&url, plants_for_planting(), "plants-1").await;
    assert_eq!(plants["status"], "PLANNED", "{plants}");
    assert_eq!(plants["leadAgency"], "plant-health", "{plants}");
    let checks: Vec<&str> = part(&plants, "plant-health")["assessment"]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    assert!(
        checks.contains(&"PHYSICAL") && checks.contains(&"SAMPLING"),
        "{plants}"
    );
    assert_eq!(
        part(&plants, "plant-health")["assessment"]["btomCategory"],
        "HIGH"
    );
    assert!(
        plants["assessments"]
            .as_array()
            .expect("parts")
            .iter()
            .all(|p| p["agency"] != "apha"),
        "APHA does not assess plants: {plants}"
    );

    let laptops = declare(&url, low_risk(), "laptops-1").await;
    assert_eq!(laptops["status"], "DECIDED", "{laptops}");
    assert_eq!(laptops["decision"]["decision"], "RELEASED", "{laptops}");
    assert_eq!(laptops["interventions"], json!([]), "{laptops}");
    assert_eq!(laptops["saving"]["checksRequested"], 0);
    assert!(laptops["leadAgency"].is_null());

    // An agency in scope without a subgraph is listed as not connected.
    let mut medicines = low_risk();
    medicines["items"][0]["commodityCode"] = json!("30049000");
    medicines["items"][0]["description"] = json!("Medicaments, packaged for retail sale");
    let medicines = declare(&url, medicines, "medicines-1").await;
    assert!(
        medicines["notConnected"]
            .as_array()
            .expect("list")
            .contains(&json!("mhra")),
        "{medicines}"
    );
    assert_eq!(part(&medicines, "mhra")["status"], "NOT_CONNECTED");
    assert!(
        medicines["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r.as_str().is_some_and(|r| r.contains("not connected"))),
        "{medicines}"
    );

    let agencies_list = call(
        &url,
        READER_KEY,
        "{ borderAgencies { id connected } }",
        json!({}),
    )
    .await;
    let list = agencies_list["data"]["borderAgencies"]
        .as_array()
        .expect("agencies");
    assert_eq!(list.len(), 28, "{agencies_list}");
    assert_eq!(
        list.iter().filter(|a| a["connected"] == true).count(),
        6,
        "{agencies_list}"
    );
    hub.stop().await;
}
both_backends!(each_kind, each_kind_of_consignment_gets_its_agencies);

async fn an_agency_down_leaves_the_plan_provisional_until_it_answers(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let mut agencies = Agencies::start().await;
    let hub = start_hub(&border_config(&db, &departments, &agencies)).await;
    let url = hub.graphql_url();

    agencies.stop(Agency::Apha).await;
    let plan = declare(&url, live_animals(), "cattle-down").await;
    assert_eq!(plan["status"], "PROVISIONAL", "{plan}");
    assert_eq!(part(&plan, "apha")["status"], "PENDING");
    assert!(part(&plan, "apha")["lastError"].is_string(), "{plan}");
    assert_eq!(part(&plan, "port-health")["status"], "ANSWERED");
    assert!(
        plan["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r.as_str().is_some_and(|r| r.contains("waiting for"))),
        "{plan}"
    );
    let id = plan["id"].as_str().expect("id").to_owned();

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(crate::plan(&url, &id).await["status"], "PROVISIONAL");
    agencies.restart(Agency::Apha).await;
    let done = settled(&url, &id).await;
    assert_eq!(done["status"], "PLANNED", "{done}");
    assert_eq!(done["leadAgency"], "apha", "{done}");
    assert!(done["revision"].as_i64() >= Some(2), "{done}");
    assert_eq!(done["saving"]["inspectionsScheduled"], 1, "{done}");
    // Every revision is in the ledger.
    assert_eq!(
        count_kind(&db, "border.plan.revised") as i64,
        done["revision"].as_i64().expect("revision")
    );
    hub.stop().await;
}
both_backends!(
    agency_down,
    an_agency_down_leaves_the_plan_provisional_until_it_answers
);

async fn invalid_declarations_name_the_field_and_write_nothing(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let agencies = Agencies::start().await;
    let hub = start_hub(&border_config(&db, &departments, &agencies)).await;
    let url = hub.graphql_url();
    let entries = db.ledger_kinds().len();

    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "declarant",
            json!("GB12345"),
            "declaration.declarant",
            "EORI_FORMAT",
        ),
        (
            "importer",
            json!("FR123456789000"),
            "declaration.importer",
            "EORI_FORMAT",
        ),
        (
            "originCountry",
            json!("XX"),
            "declaration.originCountry",
            "ISO_3166_ALPHA2",
        ),
        (
            "dispatchCountry",
            json!("UK"),
            "declaration.dispatchCountry",
            "ISO_3166_ALPHA2",
        ),
        (
            "procedureCode",
            json!("40"),
            "declaration.procedureCode",
            "PROCEDURE_CODE_FORMAT",
        ),
        (
            "portOfEntry",
            json!("DOV"),
            "declaration.portOfEntry",
            "UN_LOCODE_FORMAT",
        ),
        (
            "portOfEntry",
            json!("GBZZZ"),
            "declaration.portOfEntry",
            "PORT_UNKNOWN",
        ),
        (
            "locationOfGoods",
            json!("GBAUDVRDOVDVR"),
            "declaration.locationOfGoods",
            "LOCATION_OF_GOODS_FORMAT",
        ),
        (
            "locationOfGoods",
            json!("GB/A/U/FXTFXTFXT"),
            "declaration.locationOfGoods",
            "LOCATION_OF_GOODS_PORT",
        ),
        (
            "borderControlPost",
            json!("GBXXX1"),
            "declaration.borderControlPost",
            "BORDER_CONTROL_POST_UNKNOWN",
        ),
        (
            "borderControlPost",
            json!("GBFXT1"),
            "declaration.borderControlPost",
            "BORDER_CONTROL_POST_PORT",
        ),
        (
            "arrivesAt",
            json!("2020-01-01T00:00:00Z"),
            "declaration.arrivesAt",
            "ARRIVAL_DATE_RANGE",
        ),
        (
            "goodsMovementReference",
            json!("GMR1"),
            "declaration.goodsMovementReference",
            "GMR_FORMAT",
        ),
        (
            "chedReference",
            json!("CHED-123"),
            "declaration.chedReference",
            "CHED_FORMAT",
        ),
        (
            "traderFlags",
            json!(["MADE_UP"]),
            "declaration.traderFlags[0]",
            "TRADER_FLAG_UNKNOWN",
        ),
        ("items", json!([]), "declaration.items", "ITEM_COUNT"),
    ];
    let item_cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "commodityCode",
            json!("0102"),
            "declaration.items[0].commodityCode",
            "COMMODITY_CODE_FORMAT",
        ),
        (
            "commodityCode",
            json!("77000000"),
            "declaration.items[0].commodityCode",
            "COMMODITY_CODE_CHAPTER",
        ),
        (
            "description",
            json!(" "),
            "declaration.items[0].description",
            "DESCRIPTION_LENGTH",
        ),
        (
            "quantity",
            json!(0),
            "declaration.items[0].quantity",
            "QUANTITY_POSITIVE",
        ),
        (
            "netMassKg",
            json!(-1.0),
            "declaration.items[0].netMassKg",
            "MASS_RANGE",
        ),
        (
            "grossMassKg",
            json!(10.0),
            "declaration.items[0].grossMassKg",
            "GROSS_BELOW_NET",
        ),
        (
            "valueGbp",
            json!(-5.0),
            "declaration.items[0].valueGbp",
            "VALUE_RANGE",
        ),
    ];
    let mut all = Vec::new();
    for (field, value, path, rule) in cases {
        let mut declaration = live_animals();
        declaration[field] = value;
        all.push((declaration, path, rule));
    }
    for (field, value, path, rule) in item_cases {
        let mut declaration = live_animals();
        declaration["items"][0][field] = value;
        all.push((declaration, path, rule));
    }
    let mut too_many = live_animals();
    too_many["items"] = json!(vec![live_animals()["items"][0].clone(); 1000]);
    all.push((too_many, "declaration.items", "ITEM_COUNT"));
    for (i, (declaration, path, rule)) in all.into_iter().enumerate() {
        let response = call(
            &url,
            DECLARANT_KEY,
            &declare_query(),
            json!({ "declaration": declaration, "key": format!("bad-{i}") }),
        )
        .await;
        let error = &response["errors"][0];
        assert_eq!(code(&response), "BAD_USER_INPUT", "{rule}: {response}");
        assert_eq!(error["extensions"]["field"], path, "{rule}: {response}");
        assert_eq!(error["extensions"]["rule"], rule, "{response}");
    }
    // A missing key, a blank key, no scope: refused too.
    let blank = call(
        &url,
        DECLARANT_KEY,
        &declare_query(),
        json!({ "declaration": live_animals(), "key": " " }),
    )
    .await;
    assert_eq!(code(&blank), "BAD_USER_INPUT", "{blank}");
    let unscoped = call(
        &url,
        READER_KEY,
        &declare_query(),
        json!({ "declaration": live_animals(), "key": "k" }),
    )
    .await;
    assert_eq!(code(&unscoped), "UNAUTHORIZED_FIELD_OR_TYPE", "{unscoped}");
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM border_consignments"), 0);
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM border_assessments"), 0);
    assert_eq!(db.ledger_kinds().len(), entries);
    hub.stop().await;
}
both_backends!(
    invalid,
    invalid_declarations_name_the_field_and_write_nothing
);

async fn a_hub_killed_while_asking_completes_every_plan_after_restart(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let mut agencies = Agencies::start().await;
    // APHA answers after a second, so the hub is killed while asking it.
    let slow = slow_proxy(agencies.url(Agency::Apha), Duration::from_millis(1500)).await;
    agencies.route_through(Agency::Apha, slow);
    let config = border_config(&db, &departments, &agencies);
    let mut first = HubProcess::start(&config, db.dir.path());

    let declarations = 12;
    let consignments: Vec<Value> = (0..declarations).map(live_animals_numbered).collect();
    let mut pending = Vec::new();
    for (i, declaration) in consignments.iter().enumerate() {
        let url = first.url.clone();
        let variables = json!({ "declaration": declaration, "key": format!("kill-{i}") });
        pending.push(tokio::spawn(async move {
            let _ = try_call(&url, DECLARANT_KEY, &declare_query(), variables).await;
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    first.kill();
    for task in pending {
        let _ = task.await;
    }

    let second = HubProcess::start(&config, db.dir.path());
    // The declarant declares again with the same keys: each consignment once.
    let mut ids = Vec::new();
    for (i, declaration) in consignments.iter().enumerate() {
        let plan = declare(&second.url, declaration.clone(), &format!("kill-{i}")).await;
        ids.push(plan["id"].as_str().expect("id").to_owned());
    }
    for id in &ids {
        let done = settled(&second.url, id).await;
        assert_eq!(done["status"], "PLANNED", "{done}");
        assert_eq!(part(&done, "apha")["status"], "ANSWERED", "{done}");
    }
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM border_consignments"),
        declarations
    );
    assert_eq!(
        count_kind(&db, "border.consignment.declared"),
        declarations as usize
    );
    // Each outcome once, however often it is sent.
    for id in &ids {
        for _ in 0..2 {
            let recorded = call(
                &second.url,
                &agency_key("apha"),
                &outcome_query(),
                json!({ "id": id, "agency": "apha", "result": "HOLD" }),
            )
            .await;
            assert!(recorded["errors"].is_null(), "{recorded}");
        }
    }
    assert_eq!(
        count_kind(&db, "border.outcome.recorded"),
        declarations as usize
    );
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM border_assessments WHERE agency = 'apha' AND outcome IS NOT NULL"), declarations);
    drop(second);
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_tellonce"))
        .args(["ledger", "verify", "--database", &db.url, "--data-dir"])
        .arg(db.dir.path())
        .output()
        .expect("run ledger verify");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}
both_backends!(
    killed,
    a_hub_killed_while_asking_completes_every_plan_after_restart
);

/// Live animals with a distinct CHED reference per `n`.
fn live_animals_numbered(n: i64) -> Value {
    let mut declaration = live_animals();
    declaration["chedReference"] = json!(format!("CHEDA.GB.2026.{:07}", 1000 + n));
    declaration
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_agencies_file_is_checked_at_start_and_at_reload() {
    let db = TestDb::sqlite();
    let departments = Departments::start().await;
    let agencies = Agencies::start().await;
    let builtin = include_str!("../schema/border/agencies.toml");
    let file = db.dir.path().join("agencies.toml");
    let mut config = border_config(&db, &departments, &agencies);
    config.border.agencies_file = Some(file.clone());

    let duplicate = builtin.replacen("id = \"fsa\"", "id = \"apha\"", 1);
    let unknown_field = builtin.replacen("lead_rank = 1\n", "lead_rank = 1\ncolour = \"red\"\n", 1);
    let bad_range = builtin.replacen("\"0401-0410\"", "\"0410-0401\"", 1);
    for (text, named) in [
        (&duplicate, "apha is named twice"),
        (&unknown_field, "colour"),
        (&bad_range, "0410-0401"),
    ] {
        assert_ne!(text, builtin, "the fixture changes the file");
        std::fs::write(&file, text).expect("write");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let error = tellonce::server::start_on(&config, listener)
            .await
            .err()
            .expect("refused")
            .to_string();
        assert!(
            error.contains(named) && error.contains("agencies.toml"),
            "{error}"
        );
    }

    std::fs::write(&file, builtin).expect("write");
    let hub = start_hub(&config).await;
    let url = hub.graphql_url();
    let names = || async {
        let list = call(
            &url,
            READER_KEY,
            "{ borderAgencies { id name } }",
            json!({}),
        )
        .await;
        list["data"]["borderAgencies"]
            .as_array()
            .expect("agencies")
            .clone()
    };
    assert_eq!(names().await.len(), 28);
    // A bad file at reload is refused whole: the agencies in force stay.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    std::fs::write(&file, &duplicate).expect("write");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(names().await.iter().any(|a| a["id"] == "fsa"));
    // A good change is taken up.
    std::fs::write(
        &file,
        builtin.replacen(
            "name = \"Food Standards Agency\"",
            "name = \"Food Standards Agency (imports)\"",
            1,
        ),
    )
    .expect("write");
    let mut renamed = false;
    for _ in 0..40 {
        if names()
            .await
            .iter()
            .any(|a| a["name"] == "Food Standards Agency (imports)")
        {
            renamed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(renamed, "the changed file is reloaded");
    hub.stop().await;
}

mod ws_client;

/// A watcher of a plan sees it as it is, then each revision, and the stream
/// ends with the release decision.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_plan_is_watched_until_its_release_decision() {
    let db = TestDb::sqlite();
    let departments = Departments::start().await;
    let agencies = Agencies::start().await;
    let config = border_config(&db, &departments, &agencies);
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .expect("the hub starts");
    let url = hub.graphql_url();
    let watch =
        "subscription W($id: ID!) { interventionPlanUpdated(id: $id) { id status revision } }";

    let released = declare(&url, low_risk(), "watched-laptops").await;
    let id = released["id"].as_str().expect("a plan id").to_owned();
    let mut watcher = ws_client::WsClient::connect(&url, READER_KEY).await;
    watcher.subscribe("w", watch, json!({ "id": id })).await;
    let first = watcher.next_payload("w").await;
    assert_eq!(
        first["data"]["interventionPlanUpdated"]["id"],
        id.as_str(),
        "{first}"
    );
    assert_eq!(
        first["data"]["interventionPlanUpdated"]["status"],
        "DECIDED"
    );
    let end = watcher.message(Duration::from_secs(10)).await;
    assert_eq!(
        end,
        json!({ "id": "w", "type": "complete" }),
        "a decided plan ends the stream"
    );

    let animals = declare(&url, live_animals(), "watched-animals").await;
    let id = animals["id"].as_str().expect("a plan id").to_owned();
    watcher.subscribe("a", watch, json!({ "id": id })).await;
    let now = watcher.next_payload("a").await;
    let status = now["data"]["interventionPlanUpdated"]["status"].clone();
    assert!(status == "PROVISIONAL" || status == "PLANNED", "{now}");

    watcher
        .subscribe("missing", watch, json!({ "id": "no-such-plan" }))
        .await;
    let missing = watcher.next_payload("missing").await;
    assert_eq!(
        missing["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{missing}"
    );
    watcher.close().await;
    hub.stop().await;
}
