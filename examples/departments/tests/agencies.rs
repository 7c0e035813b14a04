//! Each border agency served on an ephemeral port and asked over real HTTP for its risk
//! assessment of three consignments (plain laptops, live cattle via Dover, plants for
//! planting), with bad input refused and only the hub allowed to ask.

use actix_web::{web, App, HttpResponse, HttpServer};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::TcpListener;
use std::time::{SystemTime, UNIX_EPOCH};
use tellonce_departments::hub_identity::{HubClaims, HUB_TOKEN_HEADER};
use tellonce_departments::{start_agency, Agency, DepartmentOptions, RunningDepartment};

const ASSESS: &str = "query($c: ConsignmentAssessmentInput!) {
  assessRisk(consignment: $c) {
    riskLevel btomCategory reasons
    checks { kind lines locations earliest latest durationMinutes reason }
  }
}";

const ARRIVES_AT: &str = "2026-12-03T08:00:00Z";

async fn run(agency: Agency, options: DepartmentOptions) -> RunningDepartment {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    start_agency(agency, listener, options).await.unwrap()
}

/// Every agency, started with the default options (no token needed).
async fn run_all() -> Vec<RunningDepartment> {
    let mut running = Vec::new();
    for &agency in Agency::all() {
        running.push(run(agency, DepartmentOptions::default()).await);
    }
    running
}

async fn stop_all(running: Vec<RunningDepartment>) {
    for agency in running {
        agency.stop().await.unwrap();
    }
}

async fn post(running: &RunningDepartment, token: Option<&str>, query: &str, vars: Value) -> Value {
    let mut request = reqwest::Client::new()
        .post(running.url())
        .json(&json!({ "query": query, "variables": vars }));
    if let Some(token) = token {
        request = request.header(HUB_TOKEN_HEADER, token);
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

/// The assessment `running` gives `consignment`, failing on any error.
async fn assess(running: &RunningDepartment, consignment: &Value) -> Value {
    let body = post(running, None, ASSESS, json!({ "c": consignment })).await;
    assert!(body.get("errors").is_none(), "{}: {body:#}", running.name());
    body["data"]["assessRisk"].clone()
}

/// The single error's `extensions`, checking that no assessment was returned.
async fn refusal(running: &RunningDepartment, token: Option<&str>, consignment: &Value) -> Value {
    let body = post(running, token, ASSESS, json!({ "c": consignment })).await;
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {body:#}"));
    assert_eq!(errors.len(), 1, "{body:#}");
    assert!(body["data"].is_null(), "{body:#}");
    let mut extensions = errors[0]["extensions"].clone();
    extensions["message"] = errors[0]["message"].clone();
    extensions
}

fn item(line: i32, code: &str, description: &str, quantity: i32, kg: f64, gbp: f64) -> Value {
    json!({
        "line": line, "commodityCode": code, "description": description, "quantity": quantity,
        "netMassKg": kg, "grossMassKg": kg * 1.1, "valueGbp": gbp,
    })
}

/// 200 kg of laptops from Germany, £20,000, by an AEO-certified trader with a clean record.
fn laptops() -> Value {
    json!({
        "reference": "CONS-2026-000101",
        "declarant": "GB123456789000",
        "importer": "GB123456789000",
        "exporter": "DE123456789012345",
        "originCountry": "DE",
        "dispatchCountry": "DE",
        "procedureCode": "4000",
        "locationOfGoods": "GB/A/U/DVRDOVDVR",
        "portOfEntry": "GBDOV",
        "arrivesAt": ARRIVES_AT,
        "transportMode": "ROAD",
        "goodsMovementReference": "GMRA00002KW2",
        "traderFlags": ["AEO_CERTIFIED"],
        "items": [item(1, "84713000", "Portable laptop computers", 100, 200.0, 20_000.0)],
    })
}

/// 20 head of live cattle from France via Dover, inspected at Sevington, pre-notified.
fn live_cattle() -> Value {
    json!({
        "reference": "CONS-2026-000102",
        "declarant": "GB351608216000",
        "importer": "GB351608216000",
        "originCountry": "FR",
        "dispatchCountry": "FR",
        "procedureCode": "4000",
        "locationOfGoods": "GB/A/U/DVRDOVDVR",
        "portOfEntry": "GBDOV",
        "borderControlPost": "GBSEV1",
        "arrivesAt": ARRIVES_AT,
        "transportMode": "ROAD",
        "chedReference": "CHEDA.GB.2026.1234567",
        "traderFlags": [],
        "items": [item(1, "01022910", "Live bovine animals for fattening", 20, 12_000.0, 30_000.0)],
    })
}

/// Potted plants for planting from the Netherlands via Felixstowe.
fn plants_for_planting() -> Value {
    json!({
        "reference": "CONS-2026-000103",
        "declarant": "GB351608216000",
        "importer": "GB351608216000",
        "originCountry": "NL",
        "dispatchCountry": "NL",
        "procedureCode": "4000",
        "locationOfGoods": "GB/A/U/FXTFXTFXT",
        "portOfEntry": "GBFXT",
        "arrivesAt": ARRIVES_AT,
        "transportMode": "SEA",
        "chedReference": "CHEDPP.GB.2026.7654321",
        "traderFlags": [],
        "items": [item(1, "06029050", "Outdoor plants for planting, potted", 400, 1_800.0, 6_400.0)],
    })
}

fn checks_of<'a>(assessment: &'a Value, kind: &str) -> Vec<&'a Value> {
    assessment["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|check| check["kind"] == kind)
        .collect()
}

fn kinds(assessment: &Value) -> Vec<&str> {
    assessment["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|check| check["kind"].as_str())
        .collect()
}

#[tokio::test]
async fn every_agency_serves_the_same_protocol_and_names_itself() {
    let sdl = Agency::Apha.sdl();
    for &agency in Agency::all() {
        assert_eq!(agency.sdl(), sdl, "{agency} serves another protocol");
        assert_eq!(Agency::from_name(agency.name()), Some(agency));
    }
    for text in [
        "assessRisk(consignment: ConsignmentAssessmentInput!): RiskAssessment!",
        "agency: AgencyProfile!",
        "btomCategory: RiskLevel",
        "enum CheckKind",
    ] {
        assert!(sdl.contains(text), "{text} missing from {sdl}");
    }
    let running = run_all().await;
    for agency in &running {
        let body = post(
            agency,
            None,
            "{ agency { id name } _service { sdl } }",
            json!({}),
        )
        .await;
        assert!(body.get("errors").is_none(), "{body:#}");
        assert_eq!(body["data"]["agency"]["id"], agency.name());
        assert_eq!(body["data"]["_service"]["sdl"].as_str(), Some(sdl.as_str()));
    }
    let names: Vec<&str> = running.iter().map(RunningDepartment::name).collect();
    assert_eq!(
        names,
        [
            "border-force",
            "hmrc-customs",
            "apha",
            "plant-health",
            "fsa",
            "port-health"
        ]
    );
    stop_all(running).await;
}

#[tokio::test]
async fn a_plain_low_risk_consignment_needs_no_checks_from_any_agency() {
    let running = run_all().await;
    for agency in &running {
        let assessment = assess(agency, &laptops()).await;
        assert_eq!(
            assessment["riskLevel"],
            "LOW",
            "{}: {assessment:#}",
            agency.name()
        );
        assert!(
            assessment["btomCategory"].is_null(),
            "{}: {assessment:#}",
            agency.name()
        );
        assert_eq!(
            assessment["checks"],
            json!([]),
            "{}: {assessment:#}",
            agency.name()
        );
    }
    stop_all(running).await;
}

#[tokio::test]
async fn live_cattle_via_dover_get_one_joint_physical_inspection_at_sevington() {
    let running = run_all().await;
    let mut answers: HashMap<&str, Value> = HashMap::new();
    for agency in &running {
        answers.insert(agency.name(), assess(agency, &live_cattle()).await);
    }
    let apha = &answers["apha"];
    assert_eq!(apha["riskLevel"], "HIGH", "{apha:#}");
    assert_eq!(apha["btomCategory"], "HIGH", "{apha:#}");
    assert_eq!(
        kinds(apha),
        ["DOCUMENTARY", "IDENTITY", "PHYSICAL"],
        "{apha:#}"
    );
    assert_eq!(checks_of(apha, "DOCUMENTARY")[0]["locations"], json!([]));

    let mut windows = Vec::new();
    for name in ["apha", "port-health", "border-force"] {
        let assessment = &answers[name];
        assert_eq!(assessment["riskLevel"], "HIGH", "{name}: {assessment:#}");
        let physical = checks_of(assessment, "PHYSICAL");
        assert_eq!(physical.len(), 1, "{name}: {assessment:#}");
        assert_eq!(
            physical[0]["locations"][0], "GBSEV1",
            "{name}: {assessment:#}"
        );
        assert_eq!(physical[0]["lines"], json!([1]), "{name}: {assessment:#}");
        windows.push((
            physical[0]["earliest"].as_str().unwrap().to_string(),
            physical[0]["latest"].as_str().unwrap().to_string(),
        ));
    }
    // RFC 3339 UTC timestamps of one format compare as text.
    let opens = windows.iter().map(|(earliest, _)| earliest).max().unwrap();
    let closes = windows.iter().map(|(_, latest)| latest).min().unwrap();
    assert!(opens < closes, "windows do not overlap: {windows:?}");
    assert_eq!(
        windows[0],
        ("2026-12-03T08:30:00Z".into(), "2026-12-03T12:00:00Z".into())
    );
    assert_eq!(
        checks_of(&answers["border-force"], "PHYSICAL")[0]["locations"],
        json!(["GBSEV1", "GBDOV"]),
        "Border Force also works at the port"
    );

    for name in ["hmrc-customs", "fsa", "plant-health"] {
        let assessment = &answers[name];
        assert_eq!(assessment["riskLevel"], "LOW", "{name}: {assessment:#}");
        assert_eq!(assessment["checks"], json!([]), "{name}: {assessment:#}");
    }
    stop_all(running).await;
}

#[tokio::test]
async fn live_animals_without_a_ched_are_high_risk_for_apha() {
    let apha = run(Agency::Apha, DepartmentOptions::default()).await;
    let mut cattle = live_cattle();
    cattle["chedReference"] = Value::Null;
    let assessment = assess(&apha, &cattle).await;
    assert_eq!(assessment["riskLevel"], "HIGH");
    let documentary = checks_of(&assessment, "DOCUMENTARY");
    let reason = documentary[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("IPAFFS") && reason.contains("CHED"),
        "{reason}"
    );
    apha.stop().await.unwrap();
}

#[tokio::test]
async fn plants_for_planting_are_checked_and_sampled_every_time() {
    let running = run_all().await;
    for agency in &running {
        let assessment = assess(agency, &plants_for_planting()).await;
        if agency.name() != "plant-health" {
            assert_eq!(
                assessment["riskLevel"],
                "LOW",
                "{}: {assessment:#}",
                agency.name()
            );
            assert_eq!(
                assessment["checks"],
                json!([]),
                "{}: {assessment:#}",
                agency.name()
            );
            continue;
        }
        assert_eq!(assessment["riskLevel"], "HIGH", "{assessment:#}");
        assert_eq!(assessment["btomCategory"], "HIGH", "{assessment:#}");
        assert_eq!(
            kinds(&assessment),
            ["DOCUMENTARY", "IDENTITY", "PHYSICAL", "SAMPLING"],
            "{assessment:#}"
        );
        for kind in ["PHYSICAL", "SAMPLING"] {
            let check = checks_of(&assessment, kind)[0];
            assert_eq!(check["locations"], json!(["GBFXT1"]), "{assessment:#}");
            // Live plants must be released within 12 hours of arrival.
            assert_eq!(check["latest"], "2026-12-03T20:00:00Z", "{assessment:#}");
        }
    }
    stop_all(running).await;
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field() {
    let fsa = run(Agency::Fsa, DepartmentOptions::default()).await;
    let mut bad_arrival = laptops();
    bad_arrival["arrivesAt"] = json!("next Tuesday");
    let extensions = refusal(&fsa, None, &bad_arrival).await;
    assert_eq!(extensions["code"], "BAD_USER_INPUT", "{extensions:#}");
    assert_eq!(
        extensions["field"], "consignment.arrivesAt",
        "{extensions:#}"
    );
    assert_eq!(extensions["rule"], "TIMESTAMP_FORMAT", "{extensions:#}");

    let mut too_many = laptops();
    too_many["items"] = (1..=1000)
        .map(|line| item(line, "84713000", "Laptop", 1, 2.0, 200.0))
        .collect();
    let extensions = refusal(&fsa, None, &too_many).await;
    assert_eq!(extensions["code"], "BAD_USER_INPUT", "{extensions:#}");
    assert_eq!(extensions["field"], "consignment.items", "{extensions:#}");

    let mut bad_code = laptops();
    bad_code["items"][0]["commodityCode"] = json!("8471");
    let extensions = refusal(&fsa, None, &bad_code).await;
    assert_eq!(extensions["field"], "consignment.items[0].commodityCode");

    let mut bad_eori = laptops();
    bad_eori["importer"] = json!("GB123");
    let extensions = refusal(&fsa, None, &bad_eori).await;
    assert_eq!(extensions["field"], "consignment.importer");
    assert_eq!(extensions["rule"], "EORI_FORMAT");
    fsa.stop().await.unwrap();
}

/// An Ed25519 key as the hub holds one, and a stand-in hub serving its JWKS.
struct Hub {
    kid: &'static str,
    encoding: EncodingKey,
    jwks_url: String,
    handle: actix_web::dev::ServerHandle,
}

impl Hub {
    fn start(seed: [u8; 32]) -> Hub {
        // PKCS#8 v1 PrivateKeyInfo for Ed25519 (RFC 8410): fixed prefix, then the seed.
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&seed);
        let public = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        let kid = "hub-key";
        let jwks = json!({ "keys": [{
            "kty": "OKP", "crv": "Ed25519", "x": BASE64URL.encode(public),
            "kid": kid, "alg": "EdDSA", "use": "sig",
        }] });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = HttpServer::new(move || {
            let jwks = jwks.clone();
            App::new().route(
                "/.well-known/jwks.json",
                web::get().to(move || {
                    let jwks = jwks.clone();
                    async move { HttpResponse::Ok().json(jwks) }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Hub {
            kid,
            encoding: EncodingKey::from_ed_der(&der),
            jwks_url: format!("http://{addr}/.well-known/jwks.json"),
            handle,
        }
    }

    /// A token for `audience` naming a principal of `kind`.
    fn token(&self, audience: &str, kind: &str) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = HubClaims {
            iss: "tellonce-hub".into(),
            sub: format!("{kind}:test"),
            aud: audience.into(),
            kind: kind.into(),
            scopes: vec![],
            department: None,
            iat: now,
            exp: now + 300,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.to_string());
        jsonwebtoken::encode(&header, &claims, &self.encoding).unwrap()
    }
}

#[tokio::test]
async fn only_the_hub_may_ask_for_an_assessment() {
    let hub = Hub::start([7; 32]);
    let requiring = DepartmentOptions {
        hub_jwks_url: Some(hub.jwks_url.clone()),
        require_hub_token: true,
        ..DepartmentOptions::default()
    };
    for &agency in Agency::all() {
        let running = run(agency, requiring.clone()).await;
        let extensions = refusal(&running, None, &laptops()).await;
        assert_eq!(extensions["code"], "FORBIDDEN", "{agency}: {extensions:#}");
        let message = extensions["message"].as_str().unwrap();
        assert!(message.contains(HUB_TOKEN_HEADER), "{message}");

        // The profile needs no token.
        let body = post(&running, None, "{ agency { id } }", json!({})).await;
        assert_eq!(body["data"]["agency"]["id"], agency.name(), "{body:#}");

        let citizen = hub.token(agency.name(), "citizen");
        let extensions = refusal(&running, Some(&citizen), &laptops()).await;
        assert_eq!(extensions["code"], "FORBIDDEN", "{agency}: {extensions:#}");
        let elsewhere = hub.token("dvla", "hub");
        let extensions = refusal(&running, Some(&elsewhere), &laptops()).await;
        assert_eq!(
            extensions["code"], "UNAUTHENTICATED",
            "{agency}: {extensions:#}"
        );

        let token = hub.token(agency.name(), "hub");
        let body = post(&running, Some(&token), ASSESS, json!({ "c": laptops() })).await;
        assert!(body.get("errors").is_none(), "{agency}: {body:#}");
        assert_eq!(body["data"]["assessRisk"]["riskLevel"], "LOW");
        running.stop().await.unwrap();
    }

    // Without the hub's JWKS URL it cannot verify anyone, so it refuses every assessment.
    let blind = run(
        Agency::Apha,
        DepartmentOptions {
            require_hub_token: true,
            ..DepartmentOptions::default()
        },
    )
    .await;
    let extensions = refusal(&blind, None, &laptops()).await;
    assert_eq!(extensions["code"], "FORBIDDEN", "{extensions:#}");
    blind.stop().await.unwrap();
    hub.handle.stop(true).await;
}
