//! The receiving mutations accept only the hub's tell-us-once delivery, proven by the hub's
//! identity token (an EdDSA JWT in `x-tellonce-identity`) verified against the hub's JWKS,
//! here served by a tiny stand-in hub.

use actix_web::{web, App, HttpResponse, HttpServer};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tellonce_departments::hub_identity::{HubClaims, HUB_TOKEN_HEADER};
use tellonce_departments::{start, start_with, Department, DepartmentOptions, RunningDepartment};

const ISSUER: &str = "tellonce-hub";
const NINO: &str = "JK528194C";

const DEATH: &str = "mutation($nino: String!, $date: Date!, $key: String!) {
  recordTaxpayerDeath(nino: $nino, dateOfDeath: $date, idempotencyKey: $key) { receiptId outcome }
}";
const STATE: &str = "query($nino: String!) {
  taxpayer(nino: $nino) { status dateOfDeath }
  hmrcNotificationLog(last: 10) { count }
}";

/// An Ed25519 signing key as the hub holds one.
struct Key {
    kid: String,
    public: [u8; 32],
    encoding: EncodingKey,
}

impl Key {
    fn new(kid: &str, seed: [u8; 32]) -> Key {
        // PKCS#8 v1 PrivateKeyInfo for Ed25519 (RFC 8410): fixed prefix, then the seed.
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&seed);
        Key {
            kid: kid.to_string(),
            public: ed25519_dalek::SigningKey::from_bytes(&seed)
                .verifying_key()
                .to_bytes(),
            encoding: EncodingKey::from_ed_der(&der),
        }
    }

    fn jwk(&self) -> Value {
        json!({
            "kty": "OKP", "crv": "Ed25519", "x": BASE64URL.encode(self.public),
            "kid": self.kid, "alg": "EdDSA", "use": "sig",
        })
    }

    /// A token signed by this key under `kid`.
    fn sign_as(&self, kid: &str, claims: &HubClaims) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_string());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }

    fn sign(&self, claims: &HubClaims) -> String {
        self.sign_as(&self.kid, claims)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The claims of the hub's delivery telling `audience`.
fn delivery(audience: &str) -> HubClaims {
    HubClaims {
        iss: ISSUER.into(),
        sub: "hub:delivery".into(),
        aud: audience.into(),
        kind: "hub".into(),
        scopes: vec![],
        department: None,
        iat: now(),
        exp: now() + 300,
    }
}

/// A stand-in hub serving `/.well-known/jwks.json` with `keys`, counting fetches.
struct JwksServer {
    url: String,
    fetches: Arc<AtomicUsize>,
    handle: actix_web::dev::ServerHandle,
}

impl JwksServer {
    fn start(keys: &[&Key]) -> JwksServer {
        let jwks = json!({ "keys": keys.iter().map(|key| key.jwk()).collect::<Vec<_>>() });
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = HttpServer::new(move || {
            let jwks = jwks.clone();
            let counter = counter.clone();
            App::new().route(
                "/.well-known/jwks.json",
                web::get().to(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
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
        JwksServer {
            url: format!("http://{addr}/.well-known/jwks.json"),
            fetches,
            handle,
        }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

async fn hmrc_with(options: DepartmentOptions) -> RunningDepartment {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    start_with(Department::Hmrc, listener, options)
        .await
        .unwrap()
}

fn requiring(jwks: &JwksServer) -> DepartmentOptions {
    DepartmentOptions {
        hub_jwks_url: Some(jwks.url.clone()),
        require_hub_token: true,
        ..DepartmentOptions::default()
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

async fn record_death(running: &RunningDepartment, token: Option<&str>, key: &str) -> Value {
    let vars = json!({ "nino": NINO, "date": "2026-01-10", "key": key });
    post(running, token, DEATH, vars).await
}

/// The single error's `extensions.code`, checking that nothing was returned for the field.
fn refusal(body: &Value) -> (String, String) {
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{body:#}"));
    assert_eq!(errors.len(), 1, "{body:#}");
    assert!(body["data"].is_null(), "{body:#}");
    (
        errors[0]["extensions"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        errors[0]["message"].as_str().unwrap_or("").to_string(),
    )
}

fn applied(body: &Value) {
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["data"]["recordTaxpayerDeath"]["outcome"], "APPLIED",
        "{body:#}"
    );
}

/// The taxpayer's status and how many notifications HMRC has received (no token needed).
async fn state(running: &RunningDepartment) -> (String, u64) {
    let body = post(running, None, STATE, json!({ "nino": NINO })).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let data = &body["data"];
    (
        data["taxpayer"]["status"].as_str().unwrap().to_string(),
        data["hmrcNotificationLog"]["count"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn only_the_hubs_delivery_may_record_a_death() {
    let hub = Key::new("hub-key", [1; 32]);
    let other = Key::new("other-key", [2; 32]);
    let jwks = JwksServer::start(&[&hub]);
    let hmrc = hmrc_with(requiring(&jwks)).await;

    // Queries need no token, and the JWKS is fetched only when a token must be verified.
    assert_eq!(state(&hmrc).await, ("LIVE".to_string(), 0));
    assert_eq!(jwks.fetches(), 0);

    let (code, message) = refusal(&record_death(&hmrc, None, "k-none").await);
    assert_eq!(code, "FORBIDDEN", "{message}");
    assert!(message.contains(HUB_TOKEN_HEADER), "{message}");
    // Refused before the arguments are looked at.
    let bad_nino = json!({ "nino": "not a nino", "date": "2026-01-10", "key": "k" });
    let (code, message) = refusal(&post(&hmrc, None, DEATH, bad_nino).await);
    assert_eq!(code, "FORBIDDEN", "{message}");
    assert_eq!(jwks.fetches(), 0);

    let department = hub.sign(&HubClaims {
        sub: "key:dwp-ops".into(),
        kind: "department".into(),
        department: Some("dwp".into()),
        ..delivery("hmrc")
    });
    let (code, message) = refusal(&record_death(&hmrc, Some(&department), "k-dept").await);
    assert_eq!(code, "FORBIDDEN", "{message}");
    assert!(message.contains("key:dwp-ops"), "{message}");
    assert_eq!(jwks.fetches(), 1, "fetched once, on first need");

    let expired = hub.sign(&HubClaims {
        iat: now() - 900,
        exp: now() - 600,
        ..delivery("hmrc")
    });
    let wrong_audience = hub.sign(&delivery("dwp"));
    let wrong_issuer = hub.sign(&HubClaims {
        iss: "someone-else".into(),
        ..delivery("hmrc")
    });
    let forged = other.sign_as(&hub.kid, &delivery("hmrc"));
    let unknown_key = other.sign(&delivery("hmrc"));
    let (header, payload, _) = {
        let token = hub.sign(&delivery("hmrc"));
        let mut parts = token.split('.').map(str::to_string);
        (parts.next().unwrap(), parts.next().unwrap(), parts.next())
    };
    let unsigned = format!("{header}.{payload}.");
    for (case, token, says) in [
        ("expired", expired.as_str(), "expired"),
        ("wrong audience", &wrong_audience, "another department"),
        ("wrong issuer", &wrong_issuer, "another issuer"),
        ("another key under the hub's kid", &forged, "signature"),
        ("a key the JWKS lacks", &unknown_key, "other-key"),
        ("no signature", &unsigned, ""),
        ("not a JWT", "not-a-token", "not a JWT"),
    ] {
        let (code, message) = refusal(&record_death(&hmrc, Some(token), case).await);
        assert_eq!(code, "UNAUTHENTICATED", "{case}: {message}");
        assert!(message.contains(says), "{case}: {message}");
    }
    assert_eq!(
        jwks.fetches(),
        1,
        "an unknown kid refetches at most once per 10 s (the first fetch was just now)"
    );

    assert_eq!(
        state(&hmrc).await,
        ("LIVE".to_string(), 0),
        "nothing changed"
    );

    let token = hub.sign(&delivery("hmrc"));
    applied(&record_death(&hmrc, Some(&token), "death:hmrc").await);
    assert_eq!(state(&hmrc).await, ("DECEASED".to_string(), 1));
    // The same token again (the hub reuses its tokens) is the same delivery, applied once.
    let again = record_death(&hmrc, Some(&token), "death:hmrc").await;
    assert_eq!(again["data"]["recordTaxpayerDeath"]["outcome"], "APPLIED");
    assert_eq!(state(&hmrc).await, ("DECEASED".to_string(), 1));

    // Queries with a token of any principal still work.
    let body = post(&hmrc, Some(&department), STATE, json!({ "nino": NINO })).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(jwks.fetches(), 1);

    hmrc.stop().await.unwrap();
    jwks.handle.stop(true).await;
}

#[tokio::test]
async fn every_receiving_mutation_is_guarded() {
    let hub = Key::new("hub-key", [3; 32]);
    let jwks = JwksServer::start(&[&hub]);
    let address = r#"{ line1: "1 High Street", town: "Leeds", postcode: "LS1 1AA" }"#;
    let cases = [
        (
            Department::Hmrc,
            format!(
                r#"mutation {{ updateTaxpayerAddress(nino: "{NINO}", address: {address}, idempotencyKey: "k") {{ outcome }} }}"#
            ),
        ),
        (
            Department::Hmrc,
            r#"mutation { registerForCorporationTax(companyNumber: "14000001", companyName: "New Ltd", incorporatedOn: "2026-01-05", idempotencyKey: "k") { outcome } }"#.to_string(),
        ),
        (
            Department::Dwp,
            format!(r#"mutation {{ recordClaimantDeath(nino: "{NINO}", dateOfDeath: "2026-01-10", idempotencyKey: "k") {{ outcome }} }}"#),
        ),
        (
            Department::Dwp,
            format!(r#"mutation {{ updateClaimantAddress(nino: "{NINO}", address: {address}, idempotencyKey: "k") {{ outcome }} }}"#),
        ),
        (
            Department::Dvla,
            format!(r#"mutation {{ recordLicenceHolderDeath(nino: "{NINO}", dateOfDeath: "2026-01-10", idempotencyKey: "k") {{ outcome }} }}"#),
        ),
        (
            Department::Dvla,
            format!(r#"mutation {{ updateLicenceHolderAddress(nino: "{NINO}", address: {address}, idempotencyKey: "k") {{ outcome }} }}"#),
        ),
        (
            Department::PassportOffice,
            format!(r#"mutation {{ recordPassportHolderDeath(nino: "{NINO}", dateOfDeath: "2026-01-10", idempotencyKey: "k") {{ outcome }} }}"#),
        ),
        (
            Department::LocalCouncil,
            format!(r#"mutation {{ recordResidentDeath(nino: "{NINO}", dateOfDeath: "2026-01-10", idempotencyKey: "k") {{ outcome }} }}"#),
        ),
        (
            Department::LocalCouncil,
            format!(r#"mutation {{ recordBirthInHousehold(parentNino: "{NINO}", childGivenNames: "Ada", childFamilyName: "Thompson", dateOfBirth: "2026-01-10", idempotencyKey: "k") {{ outcome }} }}"#),
        ),
        (
            Department::LocalCouncil,
            format!(r#"mutation {{ updateResidentAddress(nino: "{NINO}", address: {address}, idempotencyKey: "k") {{ outcome }} }}"#),
        ),
        (
            Department::VeteransUk,
            format!(r#"mutation {{ recordVeteranDeath(nino: "{NINO}", dateOfDeath: "2026-01-10", idempotencyKey: "k") {{ outcome }} }}"#),
        ),
        (
            Department::CivilServicePension,
            format!(r#"mutation {{ recordSchemeMemberDeath(nino: "{NINO}", dateOfDeath: "2026-01-10", idempotencyKey: "k") {{ outcome }} }}"#),
        ),
        (
            Department::CompaniesHouse,
            r#"mutation { registerCompany(company: { companyNumber: "14000001", companyName: "New Ltd", companyType: PRIVATE_LIMITED_COMPANY, incorporatedOn: "2026-01-05", registeredOffice: { line1: "1 High Street", town: "Leeds", postcode: "LS1 1AA" }, sicCodes: ["10710"] }, idempotencyKey: "k") { outcome } }"#.to_string(),
        ),
    ];
    for (department, mutation) in &cases {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let running = start_with(*department, listener, requiring(&jwks))
            .await
            .unwrap();
        let (code, message) = refusal(&post(&running, None, mutation, json!({})).await);
        assert_eq!(code, "FORBIDDEN", "{department}: {message}");
        let token = hub.sign(&delivery(department.name()));
        let body = post(&running, Some(&token), mutation, json!({})).await;
        assert!(body.get("errors").is_none(), "{department}: {body:#}");
        running.stop().await.unwrap();
    }
    jwks.handle.stop(true).await;
}

#[tokio::test]
async fn without_the_hubs_jwks_url_receiving_mutations_are_refused() {
    let hub = Key::new("hub-key", [4; 32]);
    let hmrc = hmrc_with(DepartmentOptions {
        require_hub_token: true,
        ..DepartmentOptions::default()
    })
    .await;
    let token = hub.sign(&delivery("hmrc"));
    for token in [None, Some(token.as_str())] {
        let (code, message) = refusal(&record_death(&hmrc, token, "k").await);
        assert_eq!(code, "FORBIDDEN", "{message}");
        assert!(message.contains("without the hub's JWKS URL"), "{message}");
    }
    assert_eq!(state(&hmrc).await, ("LIVE".to_string(), 0));
    hmrc.stop().await.unwrap();
}

#[tokio::test]
async fn when_tokens_are_not_required_a_token_sent_must_still_verify() {
    let hub = Key::new("hub-key", [5; 32]);
    let jwks = JwksServer::start(&[&hub]);
    let hmrc = hmrc_with(DepartmentOptions {
        hub_jwks_url: Some(jwks.url.clone()),
        ..DepartmentOptions::default()
    })
    .await;
    let wrong_audience = hub.sign(&delivery("dvla"));
    let (code, _) = refusal(&record_death(&hmrc, Some(&wrong_audience), "k1").await);
    assert_eq!(code, "UNAUTHENTICATED");
    let citizen = hub.sign(&HubClaims {
        sub: "jwt:gov-login#JK528194C".into(),
        kind: "citizen".into(),
        ..delivery("hmrc")
    });
    let (code, _) = refusal(&record_death(&hmrc, Some(&citizen), "k2").await);
    assert_eq!(code, "FORBIDDEN");
    assert_eq!(state(&hmrc).await, ("LIVE".to_string(), 0));
    applied(&record_death(&hmrc, None, "k3").await);
    hmrc.stop().await.unwrap();
    jwks.handle.stop(true).await;

    // `start` (the default options) cannot verify and does not require a token: a token sent
    // grants nothing, and the receiving mutations stay open as before.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = start(Department::Hmrc, listener).await.unwrap();
    let token = hub.sign(&delivery("hmrc"));
    applied(&record_death(&open, Some(&token), "k4").await);
    open.stop().await.unwrap();
}
