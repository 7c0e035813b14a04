//! Each department served on an ephemeral port and queried over real HTTP: federation
//! (`_service`, `_entities`), idempotent receiving mutations, and identifier validation.

use serde_json::{json, Value};
use std::net::TcpListener;
use tellonce_departments::{start, Department, RunningDepartment};

async fn run(department: Department) -> RunningDepartment {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    start(department, listener).await.unwrap()
}

async fn post(running: &RunningDepartment, query: &str, variables: Value) -> Value {
    let response = reqwest::Client::new()
        .post(running.url())
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

/// POST and return `data`, failing on any error.
async fn data(running: &RunningDepartment, query: &str, variables: Value) -> Value {
    let body = post(running, query, variables).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"].clone()
}

/// POST and return the single error, failing if there is data for the field.
async fn error(running: &RunningDepartment, query: &str, variables: Value) -> Value {
    let body = post(running, query, variables).await;
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {body:#}"));
    assert_eq!(errors.len(), 1, "{body:#}");
    errors[0].clone()
}

const ENTITIES: &str = "query($r: [_Any!]!) { _entities(representations: $r) { ...Fields } }";

async fn entities(
    running: &RunningDepartment,
    fragment: &str,
    representations: Value,
) -> Vec<Value> {
    let query = format!("{ENTITIES} {fragment}");
    let result = data(running, &query, json!({ "r": representations })).await;
    result["_entities"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_department_serves_its_sdl_and_stops_gracefully() {
    for &department in Department::all() {
        let running = run(department).await;
        let result = data(&running, "{ _service { sdl } }", json!({})).await;
        assert_eq!(
            result["_service"]["sdl"].as_str(),
            Some(department.sdl().as_str()),
            "{department}"
        );
        let url = running.url();
        running.stop().await.unwrap();
        assert!(reqwest::Client::new()
            .post(&url)
            .json(&json!({"query": "{ __typename }"}))
            .send()
            .await
            .is_err());
    }
}

#[tokio::test]
async fn person_resolves_across_four_departments() {
    let hmrc = run(Department::Hmrc).await;
    let dwp = run(Department::Dwp).await;
    let dvla = run(Department::Dvla).await;
    let hmpo = run(Department::PassportOffice).await;

    // HMRC owns the person; entity lookups use the canonical NINO.
    let people = entities(
        &hmrc,
        "fragment Fields on Person { nino name dateOfBirth utr status address { postcode } }",
        json!([{ "__typename": "Person", "nino": "JK528194C" }, { "__typename": "Person", "nino": "AB123456C" }]),
    )
    .await;
    assert_eq!(people[0]["name"], "Margaret Elizabeth Thompson");
    assert_eq!(people[0]["dateOfBirth"], "1957-03-14");
    assert_eq!(people[0]["utr"], "9384751092");
    assert_eq!(people[0]["status"], "LIVE");
    assert_eq!(people[0]["address"]["postcode"], "HG2 0HG");
    assert_eq!(
        people[1],
        Value::Null,
        "a NINO HMRC does not hold resolves to null"
    );

    // DWP computes the State Pension date from HMRC's date of birth (@requires).
    let people = entities(
        &dwp,
        "fragment Fields on Person { statePensionDate benefitClaims { claimId benefit status claimant { name } } }",
        json!([{ "__typename": "Person", "nino": "JK528194C", "dateOfBirth": "1957-03-14" }]),
    )
    .await;
    assert_eq!(people[0]["statePensionDate"], "2023-03-14");
    assert_eq!(people[0]["benefitClaims"][0]["benefit"], "STATE_PENSION");
    assert_eq!(people[0]["benefitClaims"][0]["status"], "IN_PAYMENT");
    // @provides: DWP answers the claimant's name itself.
    assert_eq!(
        people[0]["benefitClaims"][0]["claimant"]["name"],
        "Margaret Elizabeth Thompson"
    );

    let people = entities(
        &dvla,
        "fragment Fields on Person { drivingLicence { licenceNumber status penaltyPoints } vehicles { registration } }",
        json!([{ "__typename": "Person", "nino": "JK528194C" }, { "__typename": "Person", "nino": "NE712348B" }]),
    )
    .await;
    assert_eq!(
        people[0]["drivingLicence"]["licenceNumber"],
        "THOMP553147ME9LK"
    );
    assert_eq!(people[0]["drivingLicence"]["status"], "VALID");
    assert_eq!(
        people[0]["vehicles"],
        json!([{ "registration": "YD21 KXE" }])
    );
    assert_eq!(people[1]["drivingLicence"]["penaltyPoints"], 3);
    assert_eq!(people[1]["vehicles"], json!([]));

    let people = entities(
        &hmpo,
        "fragment Fields on Person { passports { passportNumber status } }",
        json!([{ "__typename": "Person", "nino": "SP347102A" }, { "__typename": "Person", "nino": "YH472985A" }]),
    )
    .await;
    assert_eq!(
        people[0]["passports"],
        json!([
            { "passportNumber": "120774563", "status": "VALID" },
            { "passportNumber": "761239045", "status": "EXPIRED" }
        ])
    );
    assert_eq!(people[1]["passports"], json!([]));

    // Root fields lead back into the shared entity.
    let licence = data(
        &dvla,
        r#"{ drivingLicence(number: "thomp553147me9lk") { holder { nino } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(licence["drivingLicence"]["holder"]["nino"], "JK528194C");
    let passport = data(
        &hmpo,
        r#"{ passport(number: "533401872") { holder { nino } surname } }"#,
        json!({}),
    )
    .await;
    assert_eq!(passport["passport"]["holder"]["nino"], "JK528194C");
    let by_utr = data(
        &hmrc,
        r#"{ taxpayerByUtr(utr: "9384751092") { nino } }"#,
        json!({}),
    )
    .await;
    assert_eq!(by_utr["taxpayerByUtr"]["nino"], "JK528194C");

    for running in [hmrc, dwp, dvla, hmpo] {
        running.stop().await.unwrap();
    }
}

#[tokio::test]
async fn company_and_trader_resolve_across_departments() {
    let companies_house = run(Department::CompaniesHouse).await;
    let hmrc = run(Department::Hmrc).await;
    let border_force = run(Department::BorderForce).await;

    let companies = entities(
        &companies_house,
        "fragment Fields on Company { companyName companyStatus jurisdiction officers { name role } }",
        json!([{ "__typename": "Company", "companyNumber": "SC512847" }]),
    )
    .await;
    assert_eq!(companies[0]["companyName"], "MACDONALD JOINERY LTD");
    assert_eq!(companies[0]["jurisdiction"], "SCOTLAND");
    assert_eq!(
        companies[0]["officers"][0]["name"],
        "MACDONALD, Robert James"
    );

    let companies = entities(
        &hmrc,
        "fragment Fields on Company { companyNumber vatRegistration { vatNumber } corporationTax { utr } }",
        json!([
            { "__typename": "Company", "companyNumber": "SC512847" },
            { "__typename": "Company", "companyNumber": "OC398214" }
        ]),
    )
    .await;
    assert_eq!(companies[0]["vatRegistration"]["vatNumber"], "GB224571813");
    assert_eq!(companies[0]["corporationTax"]["utr"], "1603918472");
    assert_eq!(
        companies[1]["corporationTax"],
        Value::Null,
        "an LLP is not liable to corporation tax"
    );

    // Border Force → Trader (EORI) → HMRC trader → Company → Companies House.
    let arrivals = data(
        &border_force,
        r#"{ arrivals(portCode: "GBDOV", on: "2026-11-24") { reference trader { eori } status } }"#,
        json!({}),
    )
    .await;
    let eori = arrivals["arrivals"][0]["trader"]["eori"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(eori, "GB351608216000");
    let traders = entities(
        &hmrc,
        "fragment Fields on Trader { name company { companyNumber } }",
        json!([{ "__typename": "Trader", "eori": eori }]),
    )
    .await;
    assert_eq!(traders[0]["name"], "NORTHERN HARVEST FOODS LIMITED");
    let number = traders[0]["company"]["companyNumber"]
        .as_str()
        .unwrap()
        .to_string();
    let companies = entities(
        &companies_house,
        "fragment Fields on Company { companyName incorporatedOn }",
        json!([{ "__typename": "Company", "companyNumber": number }]),
    )
    .await;
    assert_eq!(companies[0]["incorporatedOn"], "2010-11-29");

    let traders = entities(
        &border_force,
        "fragment Fields on Trader { consignments { reference status } seizures { reference } }",
        json!([{ "__typename": "Trader", "eori": "GB266719370000" }]),
    )
    .await;
    assert_eq!(traders[0]["consignments"].as_array().unwrap().len(), 3);
    let by_eori = data(
        &border_force,
        r#"{ consignmentsByEori(eori: "gb266719370000") { reference } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        by_eori["consignmentsByEori"],
        traders[0]["consignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| json!({ "reference": c["reference"] }))
            .collect::<Value>()
    );
    assert_eq!(
        traders[0]["seizures"],
        json!([{ "reference": "SZ-2026-004417" }])
    );

    for running in [companies_house, hmrc, border_force] {
        running.stop().await.unwrap();
    }
}

/// The notification log counts of one department: (distinct keys, applied).
async fn log_counts(running: &RunningDepartment, field: &str) -> (i64, i64) {
    let result = data(
        running,
        &format!("{{ {field} {{ count appliedCount }} }}"),
        json!({}),
    )
    .await;
    (
        result[field]["count"].as_i64().unwrap(),
        result[field]["appliedCount"].as_i64().unwrap(),
    )
}

const DEATH: &str = "mutation($nino: String!, $date: Date!, $key: String!) { m: MUTATION(nino: $nino, dateOfDeath: $date, idempotencyKey: $key) { receiptId idempotencyKey kind subject outcome effects appliedAt } }";

#[tokio::test]
async fn death_is_applied_once_per_key_by_each_department() {
    let cases = [
        (
            Department::Hmrc,
            "recordTaxpayerDeath",
            "hmrcNotificationLog",
        ),
        (Department::Dwp, "recordClaimantDeath", "dwpNotificationLog"),
        (
            Department::Dvla,
            "recordLicenceHolderDeath",
            "dvlaNotificationLog",
        ),
        (
            Department::PassportOffice,
            "recordPassportHolderDeath",
            "passportOfficeNotificationLog",
        ),
        (
            Department::LocalCouncil,
            "recordResidentDeath",
            "localCouncilNotificationLog",
        ),
        (
            Department::VeteransUk,
            "recordVeteranDeath",
            "veteransUkNotificationLog",
        ),
        (
            Department::CivilServicePension,
            "recordSchemeMemberDeath",
            "civilServicePensionNotificationLog",
        ),
    ];
    for (department, mutation, log) in cases {
        let running = run(department).await;
        let query = DEATH.replace("MUTATION", mutation);
        let vars = json!({ "nino": "JK528194C", "date": "2026-11-02", "key": "death-1" });

        let first = data(&running, &query, vars.clone()).await;
        assert_eq!(first["m"]["outcome"], "APPLIED", "{department}: {first:#}");
        assert_eq!(first["m"]["kind"], "DEATH");
        assert!(!first["m"]["effects"].as_array().unwrap().is_empty());
        let replay = data(&running, &query, vars.clone()).await;
        assert_eq!(
            first, replay,
            "{department}: the replay returns the first receipt"
        );
        assert_eq!(log_counts(&running, log).await, (1, 1), "{department}");

        // The same key for a different request is refused and changes nothing.
        let conflict = error(
            &running,
            &query,
            json!({ "nino": "JK528194C", "date": "2026-11-03", "key": "death-1" }),
        )
        .await;
        assert_eq!(conflict["extensions"]["code"], "CONFLICT", "{department}");
        assert_eq!(log_counts(&running, log).await, (1, 1), "{department}");

        // A second notification of the same death under a new key finds nothing left to do.
        let again = data(
            &running,
            &query,
            json!({ "nino": "JK528194C", "date": "2026-11-02", "key": "death-2" }),
        )
        .await;
        assert_eq!(
            again["m"]["outcome"], "ALREADY_UP_TO_DATE",
            "{department}: {again:#}"
        );
        assert_eq!(log_counts(&running, log).await, (2, 1), "{department}");

        // Receipts can be looked up by key, and the log can be trimmed to the latest.
        let lookup = log.replace("Log", "Receipt");
        let found = data(
            &running,
            &format!(r#"{{ r: {lookup}(idempotencyKey: "death-1") {{ receiptId }} n: {lookup}(idempotencyKey: "nope") {{ receiptId }} l: {log}(last: 1) {{ count receipts {{ idempotencyKey }} }} }}"#),
            json!({}),
        )
        .await;
        assert_eq!(
            found["r"]["receiptId"], first["m"]["receiptId"],
            "{department}"
        );
        assert_eq!(found["n"], Value::Null);
        assert_eq!(
            found["l"],
            json!({ "count": 2, "receipts": [{ "idempotencyKey": "death-2" }] })
        );
        running.stop().await.unwrap();
    }
}

#[tokio::test]
async fn death_changes_each_departments_records() {
    let hmrc = run(Department::Hmrc).await;
    let dwp = run(Department::Dwp).await;
    let dvla = run(Department::Dvla).await;
    let hmpo = run(Department::PassportOffice).await;
    let vars = json!({ "nino": "WM195627D", "date": "2026-11-20", "key": "k" });
    for (running, mutation) in [
        (&hmrc, "recordTaxpayerDeath"),
        (&dwp, "recordClaimantDeath"),
        (&dvla, "recordLicenceHolderDeath"),
        (&hmpo, "recordPassportHolderDeath"),
    ] {
        data(running, &DEATH.replace("MUTATION", mutation), vars.clone()).await;
    }
    let taxpayer = data(&hmrc, r#"{ taxpayer(nino: "WM195627D") { status dateOfDeath selfAssessmentReturns { taxYear status } } }"#, json!({})).await;
    assert_eq!(taxpayer["taxpayer"]["status"], "DECEASED");
    assert_eq!(taxpayer["taxpayer"]["dateOfDeath"], "2026-11-20");
    assert_eq!(
        taxpayer["taxpayer"]["selfAssessmentReturns"][1]["status"],
        "WITHDRAWN"
    );
    let claims = data(
        &dwp,
        r#"{ benefitClaims(nino: "WM195627D") { status endedOn } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        claims["benefitClaims"],
        json!([{ "status": "ENDED", "endedOn": "2026-11-20" }, { "status": "ENDED", "endedOn": "2026-11-20" }])
    );
    let licence = data(&dvla, r#"{ drivingLicence(number: "WILLI409308GR9HN") { status } vehicle(registration: "CU15RFO") { taxStatus } }"#, json!({})).await;
    assert_eq!(
        licence["drivingLicence"]["status"],
        "CANCELLED_HOLDER_DECEASED"
    );
    assert_eq!(licence["vehicle"]["taxStatus"], "UNTAXED");
    // Only an expired passport: nothing to cancel.
    let passport = data(&hmpo, r#"{ passportOfficeNotificationLog { receipts { outcome } } passport(number: "302918475") { status } }"#, json!({})).await;
    assert_eq!(
        passport["passportOfficeNotificationLog"]["receipts"][0]["outcome"],
        "ALREADY_UP_TO_DATE"
    );
    assert_eq!(passport["passport"]["status"], "EXPIRED");
    for running in [hmrc, dwp, dvla, hmpo] {
        running.stop().await.unwrap();
    }
}

#[tokio::test]
async fn death_ends_what_the_council_veterans_uk_and_the_pension_scheme_pay() {
    let council = run(Department::LocalCouncil).await;
    let veterans = run(Department::VeteransUk).await;
    let pensions = run(Department::CivilServicePension).await;
    let vars = json!({ "nino": "JK528194C", "date": "2026-11-20", "key": "k" });
    for (running, mutation) in [
        (&council, "recordResidentDeath"),
        (&veterans, "recordVeteranDeath"),
        (&pensions, "recordSchemeMemberDeath"),
    ] {
        let receipt = data(running, &DEATH.replace("MUTATION", mutation), vars.clone()).await;
        assert_eq!(receipt["m"]["outcome"], "APPLIED", "{receipt:#}");
    }
    let person = json!([{ "__typename": "Person", "nino": "JK528194C" }]);
    let records = entities(
        &council,
        "fragment Fields on Person { councilTaxAccounts { council status singlePersonDiscount closedOn } electoralRegistration { status removedOn } blueBadge { status } housingBenefitClaim { status endedOn } }",
        person.clone(),
    )
    .await;
    assert_eq!(
        records[0],
        json!({
            "councilTaxAccounts": [{ "council": "North Yorkshire Council", "status": "EXEMPT_DECEASED_ESTATE", "singlePersonDiscount": true, "closedOn": "2026-11-20" }],
            "electoralRegistration": { "status": "REMOVED_DECEASED", "removedOn": "2026-11-20" },
            "blueBadge": { "status": "CANCELLED_HOLDER_DECEASED" },
            "housingBenefitClaim": { "status": "ENDED_DECEASED", "endedOn": "2026-11-20" },
        })
    );
    let records = entities(
        &veterans,
        "fragment Fields on Person { veteranServiceRecord { service pensions { scheme status endedOn } } }",
        person.clone(),
    )
    .await;
    assert_eq!(
        records[0]["veteranServiceRecord"],
        json!({ "service": "BRITISH_ARMY", "pensions": [{ "scheme": "AFPS_75", "status": "ENDED_DECEASED", "endedOn": "2026-11-20" }] })
    );
    let records = entities(
        &pensions,
        "fragment Fields on Person { civilServicePension { membershipNumber status dateOfDeath } }",
        person,
    )
    .await;
    assert_eq!(
        records[0]["civilServicePension"],
        json!({ "membershipNumber": "CS10473829", "status": "DECEASED", "dateOfDeath": "2026-11-20" })
    );
    // Someone who never served, and someone not in the scheme: nothing to do.
    let vars = json!({ "nino": "NE712348B", "date": "2026-11-20", "key": "k2" });
    for (running, mutation) in [
        (&veterans, "recordVeteranDeath"),
        (&pensions, "recordSchemeMemberDeath"),
    ] {
        let receipt = data(running, &DEATH.replace("MUTATION", mutation), vars.clone()).await;
        assert_eq!(receipt["m"]["outcome"], "NO_MATCHING_RECORD", "{receipt:#}");
    }
    let bad = error(
        &veterans,
        r#"{ veteranByServiceNumber(serviceNumber: "12-34") { service } }"#,
        json!({}),
    )
    .await;
    assert_bad_input(&bad, "serviceNumber", "SERVICE_NUMBER_FORMAT");
    let found = data(
        &pensions,
        r#"{ civilServicePensionMember(membershipNumber: "cs20938471") { status employer member { nino } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        found["civilServicePensionMember"],
        json!({ "status": "ACTIVE", "employer": "HM Revenue & Customs", "member": { "nino": "SP347102A" } })
    );
    for running in [council, veterans, pensions] {
        running.stop().await.unwrap();
    }
}

const MOVE: &str = "mutation($nino: String!, $address: AddressInput!, $key: String!) { updateResidentAddress(nino: $nino, address: $address, movedOn: \"2026-11-01\", idempotencyKey: $key) { outcome effects } }";

const COUNCIL_RECORDS: &str = "fragment Fields on Person { councilTaxAccounts { accountNumber council status band address { postcode } } electoralRegistration { council status } housingBenefitClaim { status dependentChildren } registeredChildren { givenNames dateOfBirth } }";

#[tokio::test]
async fn the_council_follows_births_and_moves_within_and_out_of_its_area() {
    let council = run(Department::LocalCouncil).await;
    let person = json!([{ "__typename": "Person", "nino": "NE712348B" }]);

    // A birth: the child joins the household and Housing Benefit counts one more child.
    let birth = "mutation($key: String!) { recordBirthInHousehold(parentNino: \"NE712348B\", childGivenNames: \"Anaya\", childFamilyName: \"Sharma\", dateOfBirth: \"2026-10-30\", idempotencyKey: $key) { outcome effects } }";
    let born = data(&council, birth, json!({ "key": "b1" })).await;
    assert_eq!(born["recordBirthInHousehold"]["outcome"], "APPLIED");
    let again = data(&council, birth, json!({ "key": "b2" })).await;
    assert_eq!(
        again["recordBirthInHousehold"]["outcome"],
        "ALREADY_UP_TO_DATE"
    );
    let records = entities(&council, COUNCIL_RECORDS, person.clone()).await;
    assert_eq!(
        records[0]["housingBenefitClaim"],
        json!({ "status": "IN_PAYMENT", "dependentChildren": 2 })
    );
    assert_eq!(
        records[0]["registeredChildren"],
        json!([{ "givenNames": "Anaya", "dateOfBirth": "2026-10-30" }])
    );
    let first_account = records[0]["councilTaxAccounts"][0]["accountNumber"].clone();

    // A move within Birmingham: a new account there, still registered, still paid.
    let within = json!({ "line1": "9 Bristol Road", "town": "Birmingham", "postcode": "B5 7XX" });
    let moved = data(
        &council,
        MOVE,
        json!({ "nino": "NE712348B", "address": within, "key": "m1" }),
    )
    .await;
    assert_eq!(
        moved["updateResidentAddress"]["outcome"], "APPLIED",
        "{moved:#}"
    );
    let records = entities(&council, COUNCIL_RECORDS, person.clone()).await;
    let accounts = &records[0]["councilTaxAccounts"];
    assert_eq!(accounts[0]["status"], "LIABLE");
    assert_eq!(accounts[0]["council"], "Birmingham City Council");
    assert_eq!(accounts[0]["band"], Value::Null);
    assert_eq!(accounts[1]["accountNumber"], first_account);
    assert_eq!(accounts[1]["status"], "CLOSED_MOVED_OUT");
    assert_eq!(records[0]["electoralRegistration"]["status"], "REGISTERED");
    assert_eq!(records[0]["housingBenefitClaim"]["status"], "IN_PAYMENT");

    // A move to Leeds: Birmingham closes everything it pays, Leeds opens an account.
    let leeds = json!({ "line1": "2 Park Row", "town": "Leeds", "postcode": "LS1 5HD" });
    data(
        &council,
        MOVE,
        json!({ "nino": "NE712348B", "address": leeds, "key": "m2" }),
    )
    .await;
    let same = data(
        &council,
        MOVE,
        json!({ "nino": "NE712348B", "address": leeds, "key": "m3" }),
    )
    .await;
    assert_eq!(
        same["updateResidentAddress"]["outcome"],
        "ALREADY_UP_TO_DATE"
    );
    let records = entities(&council, COUNCIL_RECORDS, person).await;
    let accounts = records[0]["councilTaxAccounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 3);
    assert_eq!(accounts[0]["council"], "Leeds City Council");
    assert_eq!(accounts[0]["status"], "LIABLE");
    assert_eq!(
        records[0]["electoralRegistration"],
        json!({ "council": "Birmingham City Council", "status": "REMOVED_MOVED_OUT" })
    );
    assert_eq!(
        records[0]["housingBenefitClaim"]["status"],
        "ENDED_MOVED_OUT"
    );
    let found = data(
        &council,
        &format!(
            r#"{{ councilTaxAccount(accountNumber: {first_account}) {{ status closedOn }} }}"#
        ),
        json!({}),
    )
    .await;
    assert_eq!(
        found["councilTaxAccount"],
        json!({ "status": "CLOSED_MOVED_OUT", "closedOn": "2026-11-01" })
    );

    // Out of every area served here, for someone unknown: nothing to do.
    let far = json!({ "line1": "1 Castle Street", "town": "Bangor", "postcode": "LL57 1SG" });
    let unknown = data(
        &council,
        MOVE,
        json!({ "nino": "AB123456C", "address": far, "key": "m4" }),
    )
    .await;
    assert_eq!(
        unknown["updateResidentAddress"]["outcome"],
        "NO_MATCHING_RECORD"
    );
    council.stop().await.unwrap();
}

#[tokio::test]
async fn change_of_address_is_applied_once_per_key() {
    let address = json!({ "line1": "7 Station Road", "line2": null, "town": "Knaresborough", "postcode": "hg5 0bd" });
    let cases = [
        (
            Department::Hmrc,
            "updateTaxpayerAddress",
            "hmrcNotificationLog",
        ),
        (
            Department::Dwp,
            "updateClaimantAddress",
            "dwpNotificationLog",
        ),
        (
            Department::Dvla,
            "updateLicenceHolderAddress",
            "dvlaNotificationLog",
        ),
    ];
    for (department, mutation, log) in cases {
        let running = run(department).await;
        let query = format!(
            "mutation($nino: String!, $address: AddressInput!, $key: String!) {{ m: {mutation}(nino: $nino, address: $address, idempotencyKey: $key) {{ outcome effects }} }}"
        );
        let vars = json!({ "nino": "JK528194C", "address": address, "key": "move-1" });
        let first = data(&running, &query, vars.clone()).await;
        assert_eq!(first["m"]["outcome"], "APPLIED", "{department}: {first:#}");
        assert_eq!(data(&running, &query, vars).await, first);
        assert_eq!(log_counts(&running, log).await, (1, 1), "{department}");
        running.stop().await.unwrap();
    }

    // The effect itself: HMRC keeps the history, DVLA issues one replacement photocard.
    let hmrc = run(Department::Hmrc).await;
    let dvla = run(Department::Dvla).await;
    let vars = json!({ "nino": "JK528194C", "address": address, "key": "move-1" });
    for _ in 0..3 {
        data(&hmrc, "mutation($nino: String!, $address: AddressInput!, $key: String!) { updateTaxpayerAddress(nino: $nino, address: $address, movedOn: \"2026-11-01\", idempotencyKey: $key) { outcome } }", vars.clone()).await;
        data(&dvla, "mutation($nino: String!, $address: AddressInput!, $key: String!) { updateLicenceHolderAddress(nino: $nino, address: $address, idempotencyKey: $key) { outcome } }", vars.clone()).await;
    }
    let taxpayer = data(
        &hmrc,
        r#"{ taxpayer(nino: "JK528194C") { address { postcode } addressHistory { from until } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(taxpayer["taxpayer"]["address"]["postcode"], "HG5 0BD");
    assert_eq!(
        taxpayer["taxpayer"]["addressHistory"],
        json!([{ "from": "2026-11-01", "until": null }, { "from": "1998-05-22", "until": "2026-10-31" }])
    );
    let licence = data(
        &dvla,
        r#"{ drivingLicence(number: "THOMP553147ME9LK") { issueNumber address { town } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        licence["drivingLicence"],
        json!({ "issueNumber": 5, "address": { "town": "Knaresborough" } })
    );
    hmrc.stop().await.unwrap();
    dvla.stop().await.unwrap();
}

#[tokio::test]
async fn business_registration_reaches_companies_house_and_hmrc_once() {
    let companies_house = run(Department::CompaniesHouse).await;
    let hmrc = run(Department::Hmrc).await;
    let register = "mutation($c: CompanyRegistrationInput!, $key: String!) { registerCompany(company: $c, idempotencyKey: $key) { outcome effects } }";
    let company = json!({
        "companyNumber": "16204518",
        "companyName": "Pennine Bakehouse Ltd",
        "companyType": "PRIVATE_LIMITED_COMPANY",
        "incorporatedOn": "2026-11-16",
        "registeredOffice": { "line1": "4 Market Street", "town": "Hebden Bridge", "postcode": "HX7 6AA" },
        "sicCodes": ["10710"]
    });
    let vars = json!({ "c": company, "key": "biz-1" });
    let first = data(&companies_house, register, vars.clone()).await;
    assert_eq!(first["registerCompany"]["outcome"], "APPLIED");
    assert_eq!(data(&companies_house, register, vars).await, first);
    assert_eq!(
        log_counts(&companies_house, "companiesHouseNotificationLog").await,
        (1, 1)
    );
    let found = data(&companies_house, r#"{ company(companyNumber: "16204518") { companyName companyStatus filingHistory { formType } } }"#, json!({})).await;
    assert_eq!(
        found["company"],
        json!({ "companyName": "PENNINE BAKEHOUSE LTD", "companyStatus": "ACTIVE", "filingHistory": [{ "formType": "IN01" }] })
    );

    let ct = r#"mutation($key: String!) { registerForCorporationTax(companyNumber: "16204518", companyName: "Pennine Bakehouse Ltd", incorporatedOn: "2026-11-16", idempotencyKey: $key) { outcome effects } }"#;
    let first = data(&hmrc, ct, json!({ "key": "biz-1" })).await;
    assert_eq!(first["registerForCorporationTax"]["outcome"], "APPLIED");
    assert_eq!(
        data(&hmrc, ct, json!({ "key": "biz-1" })).await,
        first,
        "the same UTR comes back"
    );
    let again = data(&hmrc, ct, json!({ "key": "biz-2" })).await;
    assert_eq!(
        again["registerForCorporationTax"]["outcome"],
        "ALREADY_UP_TO_DATE"
    );
    let companies = entities(
        &hmrc,
        "fragment Fields on Company { corporationTax { utr firstAccountingPeriodStartsOn } }",
        json!([{ "__typename": "Company", "companyNumber": "16204518" }]),
    )
    .await;
    let utr = companies[0]["corporationTax"]["utr"].as_str().unwrap();
    assert!(
        tellonce_departments::identifiers::parse_utr(utr).is_ok(),
        "{utr}"
    );
    assert!(first["registerForCorporationTax"]["effects"][0]
        .as_str()
        .unwrap()
        .contains(utr));
    assert_eq!(
        companies[0]["corporationTax"]["firstAccountingPeriodStartsOn"],
        "2026-11-16"
    );
    companies_house.stop().await.unwrap();
    hmrc.stop().await.unwrap();
}

#[tokio::test]
async fn concurrent_deliveries_of_one_key_apply_once() {
    let dwp = run(Department::Dwp).await;
    let query = DEATH.replace("MUTATION", "recordClaimantDeath");
    let vars = json!({ "nino": "NE712348B", "date": "2026-11-05", "key": "race" });
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (url, body) = (dwp.url(), json!({ "query": query, "variables": vars }));
        tasks.spawn(async move {
            let response = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap();
            response.json::<Value>().await.unwrap()
        });
    }
    let results = tasks.join_all().await;
    for result in &results {
        assert!(result.get("errors").is_none(), "{result:#}");
        assert_eq!(result["data"], results[0]["data"], "{result:#}");
    }
    assert_eq!(log_counts(&dwp, "dwpNotificationLog").await, (1, 1));
    dwp.stop().await.unwrap();
}

/// Assert a BAD_USER_INPUT error naming the field and the rule.
fn assert_bad_input(error: &Value, field: &str, rule: &str) {
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error:#}");
    assert_eq!(error["extensions"]["field"], field, "{error:#}");
    assert_eq!(error["extensions"]["rule"], rule, "{error:#}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(&format!("\"{field}\"")),
        "{error:#}"
    );
}

#[tokio::test]
async fn bad_identifiers_are_refused_naming_field_and_rule() {
    let hmrc = run(Department::Hmrc).await;
    let cases = [
        (
            r#"{ taxpayer(nino: "JK528194E") { name } }"#,
            "nino",
            "NINO_SUFFIX",
        ),
        (
            r#"{ taxpayer(nino: "GB528194A") { name } }"#,
            "nino",
            "NINO_PREFIX_NOT_ALLOCATED",
        ),
        (
            r#"{ taxpayer(nino: "DK528194A") { name } }"#,
            "nino",
            "NINO_FIRST_LETTER",
        ),
        (
            r#"{ taxpayerByUtr(utr: "9384751093") { name } }"#,
            "utr",
            "UTR_CHECK_DIGIT",
        ),
        (
            r#"{ companyByVatNumber(vatNumber: "GB287461958") { companyNumber } }"#,
            "vatNumber",
            "VAT_CHECK_DIGITS",
        ),
        (
            r#"{ trader(eori: "GB35160821600") { name } }"#,
            "eori",
            "EORI_FORMAT",
        ),
    ];
    for (query, field, rule) in cases {
        let e = error(&hmrc, query, json!({})).await;
        assert_bad_input(&e, field, rule);
    }

    // A bad postcode inside an input names the path, and nothing is applied.
    let bad_address = json!({ "nino": "JK528194C", "key": "k", "address": { "line1": "1 High Street", "town": "York", "postcode": "YO1 1CI" } });
    let e = error(&hmrc, "mutation($nino: String!, $address: AddressInput!, $key: String!) { updateTaxpayerAddress(nino: $nino, address: $address, idempotencyKey: $key) { outcome } }", bad_address).await;
    assert_bad_input(&e, "address.postcode", "POSTCODE_FORMAT");
    let e = error(
        &hmrc,
        &DEATH.replace("MUTATION", "recordTaxpayerDeath"),
        json!({ "nino": "JK528194C", "date": "2999-01-01", "key": "k" }),
    )
    .await;
    assert_bad_input(&e, "dateOfDeath", "DATE_IN_FUTURE");
    let e = error(
        &hmrc,
        &DEATH.replace("MUTATION", "recordTaxpayerDeath"),
        json!({ "nino": "JK528194C", "date": "1950-01-01", "key": "k" }),
    )
    .await;
    assert_bad_input(&e, "dateOfDeath", "DATE_BEFORE_BIRTH");
    let e = error(
        &hmrc,
        &DEATH.replace("MUTATION", "recordTaxpayerDeath"),
        json!({ "nino": "JK528194C", "date": "2026-11-01", "key": " " }),
    )
    .await;
    assert_bad_input(&e, "idempotencyKey", "IDEMPOTENCY_KEY_LENGTH");
    assert_eq!(log_counts(&hmrc, "hmrcNotificationLog").await, (0, 0));
    let taxpayer = data(
        &hmrc,
        r#"{ taxpayer(nino: "JK528194C") { status address { town } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        taxpayer["taxpayer"],
        json!({ "status": "LIVE", "address": { "town": "Harrogate" } })
    );
    hmrc.stop().await.unwrap();

    let companies_house = run(Department::CompaniesHouse).await;
    let e = error(
        &companies_house,
        r#"{ company(companyNumber: "XY123456") { companyName } }"#,
        json!({}),
    )
    .await;
    assert_bad_input(&e, "companyNumber", "COMPANY_NUMBER_PREFIX");
    companies_house.stop().await.unwrap();

    let dvla = run(Department::Dvla).await;
    let e = error(
        &dvla,
        r#"{ drivingLicence(number: "THOMP553347ME9LK") { status } }"#,
        json!({}),
    )
    .await;
    assert_bad_input(&e, "number", "DRIVING_LICENCE_DATE_OF_BIRTH");
    let e = error(
        &dvla,
        r#"{ vehicle(registration: "YD01 KXE") { make } }"#,
        json!({}),
    )
    .await;
    assert_bad_input(&e, "registration", "VEHICLE_REGISTRATION_AGE_IDENTIFIER");
    dvla.stop().await.unwrap();

    let hmpo = run(Department::PassportOffice).await;
    let e = error(
        &hmpo,
        r#"{ passport(number: "53340187") { status } }"#,
        json!({}),
    )
    .await;
    assert_bad_input(&e, "number", "PASSPORT_NUMBER_FORMAT");
    hmpo.stop().await.unwrap();

    let border_force = run(Department::BorderForce).await;
    let e = error(
        &border_force,
        r#"{ consignmentsAtPort(portCode: "GBXXX") { reference } }"#,
        json!({}),
    )
    .await;
    assert_bad_input(&e, "portCode", "PORT_CODE_UNKNOWN");
    // Entity lookups validate keys too.
    let e = error(
        &border_force,
        &format!("{ENTITIES} fragment Fields on Trader {{ eori }}"),
        json!({ "r": [{ "__typename": "Trader", "eori": "GB1" }] }),
    )
    .await;
    assert_bad_input(&e, "eori", "EORI_FORMAT");
    border_force.stop().await.unwrap();
}
