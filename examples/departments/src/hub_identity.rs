//! Who is asking: the hub's identity token, verified against the hub's JWKS.
//!
//! The hub sends every department request a short-lived EdDSA JWT in
//! [`HUB_TOKEN_HEADER`] naming the principal it acts for (`sub`, `kind`,
//! `scopes`, `department`), addressed to this department (`aud` = its subgraph
//! name). The HTTP layer verifies it before execution and puts the outcome in
//! the request's data: [`HubAuthentication`] always, and a [`Caller`] when the
//! token verified, so any resolver can read who is asking with [`caller`].
//!
//! The receiving mutations (the ones tell-us-once delivery calls) carry the
//! [`HubDelivery`] guard, and the agencies' risk assessments the [`HubOnly`]
//! guard: only a verified token of kind `hub` may call them.

use async_graphql::{Context, ErrorExtensions, Guard};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// The request header the hub sends its identity token in.
pub const HUB_TOKEN_HEADER: &str = "x-tellonce-identity";

/// The issuer the hub signs as, unless configured otherwise.
pub const DEFAULT_HUB_ISSUER: &str = "tellonce-hub";

/// The principal kind of the hub's own tell-us-once delivery.
pub const HUB_DELIVERY_KIND: &str = "hub";

/// A token naming a key the JWKS lacks refetches the JWKS at most this often.
pub const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Clock skew allowed on `exp`. The hub replaces its tokens well before they
/// expire, so a small leeway suffices.
const CLOCK_LEEWAY_SECS: u64 = 10;

/// The claims of a hub identity token (the hub's `HubClaims`, field for field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubClaims {
    pub iss: String,
    /// The principal's id, e.g. `hub:delivery`.
    pub sub: String,
    /// The department's subgraph name.
    pub aud: String,
    /// The principal's kind: `hub`, `department`, `citizen`, `anonymous`, …
    pub kind: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub department: Option<String>,
    pub iat: u64,
    pub exp: u64,
}

/// Who is asking, as a verified hub token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The principal's id, e.g. `hub:delivery` or `key:7f3a…`.
    pub principal_id: String,
    /// The principal's kind as text, e.g. `hub`, `department`, `citizen`.
    pub kind: String,
    pub scopes: Vec<String>,
    /// For a department or agency principal: the subgraph it acts for.
    pub department: Option<String>,
}

impl Caller {
    /// The hub's own tell-us-once delivery.
    pub fn is_hub_delivery(&self) -> bool {
        self.kind == HUB_DELIVERY_KIND
    }
}

impl From<HubClaims> for Caller {
    fn from(claims: HubClaims) -> Self {
        Caller {
            principal_id: claims.sub,
            kind: claims.kind,
            scopes: claims.scopes,
            department: claims.department,
        }
    }
}

/// The verified caller of the request being executed, if its hub token verified.
pub fn caller<'a>(ctx: &Context<'a>) -> Option<&'a Caller> {
    ctx.data_opt::<Caller>()
}

/// What the request's hub token established (always in the request's data).
#[derive(Debug)]
pub enum HubAuthentication {
    /// The token verified.
    Verified(Caller),
    /// No token was sent.
    NoToken,
    /// A token was sent and did not verify.
    Rejected(HubTokenRejection),
    /// The department was started without the hub's JWKS URL, so it cannot
    /// verify tokens; a token sent is ignored (it grants nothing).
    CannotVerify,
}

/// Why a hub token was refused.
#[derive(Debug, thiserror::Error)]
pub enum HubTokenRejection {
    #[error("the {HUB_TOKEN_HEADER} header was sent more than once")]
    Repeated,
    #[error("the {HUB_TOKEN_HEADER} header is not ASCII text")]
    NotText,
    #[error("the hub identity token is not a JWT: {0}")]
    Malformed(#[source] jsonwebtoken::errors::Error),
    #[error("the hub identity token names no key (no kid in its header)")]
    NoKeyId,
    #[error(
        "the hub identity token is signed with key {kid}, which the hub's JWKS at {url} does not list"
    )]
    UnknownKey { kid: String, url: String },
    #[error(
        "cannot fetch the hub's JWKS from {url} to verify the hub identity token: {source}; \
         check that the hub is running and that the department's hub JWKS URL is right"
    )]
    JwksUnavailable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the hub identity token has expired")]
    Expired(#[source] jsonwebtoken::errors::Error),
    #[error("the hub identity token is addressed to another department (aud is not {audience})")]
    WrongAudience {
        audience: &'static str,
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    #[error("the hub identity token was issued by another issuer (iss is not {issuer})")]
    WrongIssuer {
        issuer: String,
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    #[error("the hub identity token's signature does not verify with the hub's key")]
    BadSignature(#[source] jsonwebtoken::errors::Error),
    #[error("the hub identity token does not verify: {0}")]
    Invalid(#[source] jsonwebtoken::errors::Error),
}

/// Verifies hub identity tokens for one department with the hub's JWKS,
/// fetched on first need and refetched (at most every
/// [`JWKS_REFETCH_INTERVAL`]) when a token names a key it lacks.
#[derive(Debug)]
pub struct HubTokenVerifier {
    url: String,
    validation: Validation,
    audience: &'static str,
    issuer: String,
    client: reqwest::Client,
    keys: RwLock<Arc<HashMap<String, DecodingKey>>>,
    /// When the JWKS was last fetched (or tried); held while fetching, so
    /// concurrent requests fetch once.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
}

impl HubTokenVerifier {
    /// A verifier for tokens addressed to `audience` (the department's subgraph
    /// name) and issued by `issuer`, with keys from the JWKS at `jwks_url`.
    pub fn new(jwks_url: String, issuer: &str, audience: &'static str) -> HubTokenVerifier {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = CLOCK_LEEWAY_SECS;
        let client = reqwest::Client::builder()
            .timeout(JWKS_FETCH_TIMEOUT)
            .build()
            .unwrap_or_default();
        HubTokenVerifier {
            url: jwks_url,
            validation,
            audience,
            issuer: issuer.to_string(),
            client,
            keys: RwLock::new(Arc::new(HashMap::new())),
            last_fetch: tokio::sync::Mutex::new(None),
        }
    }

    /// The claims of `token` if it verifies: EdDSA signature by a key in the
    /// hub's JWKS, this department as `aud`, the hub's `iss`, not expired.
    pub async fn verify(&self, token: &str) -> Result<HubClaims, HubTokenRejection> {
        let header = jsonwebtoken::decode_header(token).map_err(HubTokenRejection::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(HubTokenRejection::Invalid(
                ErrorKind::InvalidAlgorithm.into(),
            ));
        }
        let kid = header.kid.ok_or(HubTokenRejection::NoKeyId)?;
        let key = self.key(&kid).await?;
        jsonwebtoken::decode::<HubClaims>(token, &key, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| self.rejection(error))
    }

    fn rejection(&self, error: jsonwebtoken::errors::Error) -> HubTokenRejection {
        match error.kind() {
            ErrorKind::ExpiredSignature => HubTokenRejection::Expired(error),
            ErrorKind::InvalidAudience => HubTokenRejection::WrongAudience {
                audience: self.audience,
                source: error,
            },
            ErrorKind::InvalidIssuer => HubTokenRejection::WrongIssuer {
                issuer: self.issuer.clone(),
                source: error,
            },
            ErrorKind::InvalidSignature => HubTokenRejection::BadSignature(error),
            ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) => {
                HubTokenRejection::Malformed(error)
            }
            _ => HubTokenRejection::Invalid(error),
        }
    }

    fn cached_key(&self, kid: &str) -> Option<DecodingKey> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        keys.get(kid).cloned()
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, HubTokenRejection> {
        if let Some(key) = self.cached_key(kid) {
            return Ok(key);
        }
        let mut last_fetch = self.last_fetch.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = self.cached_key(kid) {
            return Ok(key);
        }
        let unknown = || HubTokenRejection::UnknownKey {
            kid: kid.to_string(),
            url: self.url.clone(),
        };
        if last_fetch.is_some_and(|at| at.elapsed() < JWKS_REFETCH_INTERVAL) {
            return Err(unknown());
        }
        *last_fetch = Some(Instant::now());
        let keys = self.fetch().await?;
        let key = keys.get(kid).cloned();
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        key.ok_or_else(unknown)
    }

    /// The Ed25519 keys (by kid) of the hub's JWKS; other keys are ignored.
    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, HubTokenRejection> {
        let unavailable = |source| HubTokenRejection::JwksUnavailable {
            url: self.url.clone(),
            source,
        };
        let set: JwkSet = self
            .client
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let AlgorithmParameters::OctetKeyPair(params) = &jwk.algorithm else {
                continue;
            };
            let eddsa = matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::EdDSA));
            let (Some(kid), true, true) = (
                &jwk.common.key_id,
                eddsa,
                params.curve == EllipticCurve::Ed25519,
            ) else {
                continue;
            };
            // (A key of another length would make jsonwebtoken panic.)
            match DecodingKey::from_ed_components(&params.x) {
                Ok(key) if key.as_bytes().len() == 32 => {
                    keys.insert(kid.clone(), key);
                }
                _ => {}
            }
        }
        Ok(keys)
    }
}

/// What the department does with receiving mutations, per request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HubPolicy {
    /// Refuse receiving mutations that carry no verified hub delivery token.
    pub(crate) require_hub_token: bool,
}

/// Guards a receiving mutation: only the hub's tell-us-once delivery, with a
/// verified token of kind `hub`, may call it. Without a token it is allowed
/// only when the department was started with `require_hub_token: false`; a
/// token that is sent must verify in any case (when the department can verify).
/// Refusals are `FORBIDDEN` (no token, another principal, cannot verify) or
/// `UNAUTHENTICATED` (a token that does not verify), before anything changes.
pub struct HubDelivery;

impl Guard for HubDelivery {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        check_hub_caller(ctx, "the hub's tell-us-once delivery")
    }
}

/// Guards a field only the hub itself may ask, such as an agency's risk
/// assessment: the same rules and refusals as [`HubDelivery`].
pub struct HubOnly;

impl Guard for HubOnly {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        check_hub_caller(ctx, "the hub")
    }
}

/// Whether the request may call the field being resolved, which is for
/// `purpose` only (a principal of kind `hub`).
fn check_hub_caller(ctx: &Context<'_>, purpose: &str) -> async_graphql::Result<()> {
    let field = ctx.item.node.name.node.as_str();
    // Executed without the HTTP layer (in process, by code that built the
    // schema itself): there is no request to authenticate.
    let Some(authentication) = ctx.data_opt::<HubAuthentication>() else {
        return Ok(());
    };
    let required = ctx
        .data_opt::<HubPolicy>()
        .is_none_or(|policy| policy.require_hub_token);
    match authentication {
        HubAuthentication::Verified(caller) if caller.is_hub_delivery() => Ok(()),
        HubAuthentication::Verified(caller) => Err(forbidden(format!(
            "{field} is for {purpose} only; this request is from {} {}",
            caller.kind, caller.principal_id
        ))),
        HubAuthentication::Rejected(rejection) => Err(async_graphql::Error::new(format!(
            "{field} refused: {rejection}"
        ))
        .extend_with(|_, ext| ext.set("code", "UNAUTHENTICATED"))),
        HubAuthentication::NoToken | HubAuthentication::CannotVerify if !required => Ok(()),
        HubAuthentication::NoToken => Err(forbidden(format!(
            "{field} is for {purpose} only, and the request carries no hub identity token \
             ({HUB_TOKEN_HEADER})"
        ))),
        HubAuthentication::CannotVerify => Err(forbidden(format!(
            "{field} is for {purpose} only, and this subgraph was started without the hub's \
             JWKS URL, so it cannot verify the hub's identity; start it with the hub's \
             /.well-known/jwks.json URL"
        ))),
    }
}

fn forbidden(message: String) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", "FORBIDDEN"))
}
