//! JWT principals: tokens signed by an identity provider (RS256, ES256 or
//! EdDSA), checked against its JWKS (a file, or a URL fetched at start,
//! refreshed periodically and when a token names a key not yet seen), with
//! `exp`, `nbf`, `iss` and `aud` checked. The token's claims say the
//! principal's kind, scopes and, for a citizen, their NINO.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::principal::{Principal, PrincipalKind};

/// The `[auth.jwt]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct JwtConfig {
    /// A JWKS file.
    pub jwks_file: Option<PathBuf>,
    /// A JWKS URL (the identity provider's `jwks_uri`).
    pub jwks_url: Option<String>,
    /// Accepted `iss` values; empty accepts none (configure at least one).
    pub issuers: Vec<String>,
    /// Accepted `aud` values; empty means `aud` is not checked.
    pub audiences: Vec<String>,
    /// How often a JWKS URL is fetched again, in seconds.
    pub refresh_seconds: u64,
    /// The claim naming the principal's kind; absent means `default_kind`.
    pub kind_claim: String,
    pub default_kind: String,
    /// The claim with the scopes: a space-separated string or an array.
    pub scope_claim: String,
    /// The claim with a citizen's National Insurance number.
    pub nino_claim: String,
    /// The claim naming the department or agency a principal acts for.
    pub department_claim: String,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_seconds: u64,
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            jwks_file: None,
            jwks_url: None,
            issuers: Vec::new(),
            audiences: Vec::new(),
            refresh_seconds: 300,
            kind_claim: "tellonce_kind".into(),
            default_kind: "citizen".into(),
            scope_claim: "scope".into(),
            nino_claim: "nino".into(),
            department_claim: "department".into(),
            leeway_seconds: 30,
        }
    }
}

impl JwtConfig {
    pub fn enabled(&self) -> bool {
        self.jwks_file.is_some() || self.jwks_url.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("cannot read the JWKS file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot fetch the JWKS from {url}: {source}")]
    Fetch { url: String, source: reqwest::Error },
    #[error("the JWKS from {from} is not a JSON Web Key Set: {source}")]
    ParseJwks {
        from: String,
        source: serde_json::Error,
    },
    #[error("{0}")]
    Config(String),
    /// The token itself is bad: the message goes to the client.
    #[error("the bearer token is not valid: {0}")]
    Token(String),
}

struct Keys {
    by_kid: HashMap<String, (DecodingKey, Algorithm)>,
    /// Keys without a `kid`, tried in turn.
    anonymous: Vec<(DecodingKey, Algorithm)>,
    fetched: Instant,
}

/// Verifies JWTs against a JWKS.
pub struct JwtVerifier {
    config: JwtConfig,
    keys: RwLock<Arc<Keys>>,
    client: reqwest::Client,
}

impl JwtVerifier {
    /// Loads the JWKS (fetching it when it is a URL).
    pub async fn load(config: JwtConfig) -> Result<JwtVerifier, JwtError> {
        if config.issuers.is_empty() {
            return Err(JwtError::Config(
                "[auth.jwt] needs `issuers`: the `iss` values whose tokens are accepted".into(),
            ));
        }
        PrincipalKind::parse(&config.default_kind)
            .filter(|k| k.issuable())
            .ok_or_else(|| {
                JwtError::Config(format!(
                    "[auth.jwt] default_kind {:?} is not a principal kind",
                    config.default_kind
                ))
            })?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|source| JwtError::Fetch {
                url: "(client)".into(),
                source,
            })?;
        let keys = fetch_keys(&config, &client).await?;
        Ok(JwtVerifier {
            config,
            keys: RwLock::new(Arc::new(keys)),
            client,
        })
    }

    fn current(&self) -> Arc<Keys> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Fetches the JWKS again when it is a URL and the last fetch is older
    /// than `min_age`.
    pub async fn refresh(&self, min_age: Duration) -> Result<(), JwtError> {
        if self.config.jwks_url.is_none() || self.current().fetched.elapsed() < min_age {
            return Ok(());
        }
        let keys = fetch_keys(&self.config, &self.client).await?;
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
        Ok(())
    }

    /// Refreshes the JWKS every `refresh_seconds` until the hub stops.
    pub fn spawn_refresh(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        self.config.jwks_url.as_ref()?;
        let verifier = self.clone();
        let every = Duration::from_secs(self.config.refresh_seconds.max(10));
        Some(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(error) = verifier.refresh(every / 2).await {
                    tracing::warn!(%error, "JWKS refresh failed; the keys already held stay in use");
                }
            }
        }))
    }

    /// The principal a token stands for, or why it is refused.
    pub async fn verify(&self, token: &str) -> Result<Principal, JwtError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| JwtError::Token(format!("its header cannot be read ({e})")))?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA
        ) {
            return Err(JwtError::Token(format!(
                "algorithm {:?} is not accepted (RS256, ES256 and EdDSA are)",
                header.alg
            )));
        }
        let mut keys = self.current();
        if let Some(kid) = &header.kid {
            if !keys.by_kid.contains_key(kid) {
                // A rotated key: look again, at most once per 10 s.
                if let Err(error) = self.refresh(Duration::from_secs(10)).await {
                    tracing::warn!(%error, "JWKS refresh for an unknown key id failed");
                }
                keys = self.current();
            }
        }
        let candidates: Vec<&(DecodingKey, Algorithm)> = match &header.kid {
            Some(kid) => keys.by_kid.get(kid).into_iter().collect(),
            None => keys.anonymous.iter().collect(),
        };
        if candidates.is_empty() {
            return Err(JwtError::Token(
                "it is signed by a key the hub does not know".into(),
            ));
        }
        let mut last = None;
        for (key, alg) in candidates {
            if *alg != header.alg {
                continue;
            }
            let mut validation = Validation::new(*alg);
            validation.leeway = self.config.leeway_seconds;
            validation.validate_nbf = true;
            validation.set_required_spec_claims(&["exp", "iss", "sub"]);
            validation.set_issuer(&self.config.issuers);
            if self.config.audiences.is_empty() {
                validation.validate_aud = false;
            } else {
                validation.set_audience(&self.config.audiences);
            }
            match jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation) {
                Ok(data) => return self.principal(data.claims),
                Err(error) => last = Some(error),
            }
        }
        Err(JwtError::Token(match last {
            Some(error) => describe(&error),
            None => "its algorithm does not match its key".into(),
        }))
    }

    fn principal(&self, claims: Map<String, Value>) -> Result<Principal, JwtError> {
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_string);
        let (iss, sub) = (
            text("iss").unwrap_or_default(),
            text("sub").unwrap_or_default(),
        );
        let kind_text = text(&self.config.kind_claim).unwrap_or(self.config.default_kind.clone());
        let kind = PrincipalKind::parse(&kind_text)
            .filter(|k| k.issuable())
            .ok_or_else(|| {
                JwtError::Token(format!(
                    "claim {} names no principal kind",
                    self.config.kind_claim
                ))
            })?;
        let scopes: BTreeSet<String> = match claims.get(&self.config.scope_claim) {
            Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => BTreeSet::new(),
        };
        let nino =
            match text(&self.config.nino_claim) {
                Some(nino) => Some(tellonce_identifiers::parse_nino(&nino).map_err(|e| {
                    JwtError::Token(format!("claim {}: {e}", self.config.nino_claim))
                })?),
                None => None,
            };
        if kind == PrincipalKind::Citizen && nino.is_none() {
            return Err(JwtError::Token(format!(
                "a citizen's token needs their National Insurance number in claim {}",
                self.config.nino_claim
            )));
        }
        let department = text(&self.config.department_claim);
        if matches!(kind, PrincipalKind::Department | PrincipalKind::Agency) && department.is_none()
        {
            return Err(JwtError::Token(format!(
                "a {kind} token needs claim {}",
                self.config.department_claim
            )));
        }
        Ok(Principal {
            id: format!("jwt:{iss}#{sub}"),
            kind,
            scopes,
            department,
            nino,
            claims,
        })
    }
}

fn describe(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => "it has expired".into(),
        ErrorKind::ImmatureSignature => "it is not valid yet (nbf)".into(),
        ErrorKind::InvalidIssuer => "its issuer is not accepted".into(),
        ErrorKind::InvalidAudience => "its audience is not accepted".into(),
        ErrorKind::InvalidSignature => "its signature does not verify".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("it has no {claim} claim"),
        other => format!("{other:?}"),
    }
}

async fn fetch_keys(config: &JwtConfig, client: &reqwest::Client) -> Result<Keys, JwtError> {
    let (text, from) = match (&config.jwks_file, &config.jwks_url) {
        (Some(path), _) => (
            std::fs::read_to_string(path).map_err(|source| JwtError::ReadFile {
                path: path.clone(),
                source,
            })?,
            path.display().to_string(),
        ),
        (None, Some(url)) => {
            let fetch = |source| JwtError::Fetch {
                url: url.clone(),
                source,
            };
            let response = client.get(url).send().await.map_err(fetch)?;
            let response = response.error_for_status().map_err(fetch)?;
            (response.text().await.map_err(fetch)?, url.clone())
        }
        (None, None) => {
            return Err(JwtError::Config(
                "[auth.jwt] needs jwks_file or jwks_url".into(),
            ))
        }
    };
    let set: JwkSet = serde_json::from_str(&text).map_err(|source| JwtError::ParseJwks {
        from: from.clone(),
        source,
    })?;
    let mut keys = Keys {
        by_kid: HashMap::new(),
        anonymous: Vec::new(),
        fetched: Instant::now(),
    };
    for jwk in &set.keys {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            tracing::warn!(kid = ?jwk.common.key_id, "a JWKS key of an unsupported type is ignored");
            continue;
        };
        let alg = match &jwk.algorithm {
            jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
            jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
            jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
            jsonwebtoken::jwk::AlgorithmParameters::OctetKey(_) => continue,
        };
        match &jwk.common.key_id {
            Some(kid) => {
                keys.by_kid.insert(kid.clone(), (key, alg));
            }
            None => keys.anonymous.push((key, alg)),
        }
    }
    if keys.by_kid.is_empty() && keys.anonymous.is_empty() {
        return Err(JwtError::Config(format!(
            "the JWKS from {from} holds no RSA, EC P-256 or Ed25519 key"
        )));
    }
    Ok(keys)
}
