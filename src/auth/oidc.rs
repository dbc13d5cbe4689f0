//! OIDC bearer tokens: JWTs signed by an issuer's keys (RS256/ES256 and kin), checked
//! against its JWKS, fetched when first needed, cached, and fetched again when a token
//! names an unknown key (at most once per `jwks_min_refresh_secs`, so junk tokens
//! cannot make datagate hammer the identity provider). Token contents are never logged.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use tokio::sync::{Mutex, RwLock};

use super::Principal;
use crate::config::OidcConfig;

/// Why a token is not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Bad, expired, for someone else, or signed by a key the issuer does not have.
    Invalid(&'static str),
    /// The issuer's keys cannot be fetched now.
    Unavailable,
}

/// Signature algorithms accepted: asymmetric only (never HS*, whose key is public here).
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
];

struct Keys {
    by_kid: HashMap<String, DecodingKey>,
    /// Keys without a `kid`, tried in turn.
    anonymous: Vec<DecodingKey>,
    fetched: Option<Instant>,
}

/// One configured issuer.
pub struct Issuer {
    config: OidcConfig,
    client: jwks_client::Client,
    keys: RwLock<Keys>,
    /// Held while fetching, so concurrent misses fetch once.
    fetching: Mutex<Option<Instant>>,
}

impl Issuer {
    pub fn new(config: OidcConfig) -> Issuer {
        let client = jwks_client::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Issuer {
            config,
            client,
            keys: RwLock::new(Keys {
                by_kid: HashMap::new(),
                anonymous: Vec::new(),
                fetched: None,
            }),
            fetching: Mutex::new(None),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// Validates `token` (already known to claim this issuer) into a principal.
    pub async fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid("malformed"))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(TokenError::Invalid("algorithm not accepted"));
        }
        let stale = {
            let keys = self.keys.read().await;
            keys.fetched
                .is_none_or(|t| t.elapsed() > Duration::from_secs(self.config.jwks_cache_secs))
                || header
                    .kid
                    .as_ref()
                    .is_some_and(|k| !keys.by_kid.contains_key(k))
        };
        if stale {
            self.refresh().await?;
        }
        let keys = self.keys.read().await;
        let candidates: Vec<&DecodingKey> = match &header.kid {
            Some(kid) => keys.by_kid.get(kid).into_iter().collect(),
            None => keys.by_kid.values().chain(&keys.anonymous).collect(),
        };
        if candidates.is_empty() {
            return Err(TokenError::Invalid("signed by an unknown key"));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.config.leeway_secs;
        validation.validate_nbf = true;
        let mut last = TokenError::Invalid("bad signature");
        for key in candidates {
            match jsonwebtoken::decode::<Value>(token, key, &validation) {
                Ok(data) => return self.principal(&data.claims),
                Err(e) => last = TokenError::Invalid(reason(e.kind())),
            }
        }
        Err(last)
    }

    fn principal(&self, claims: &Value) -> Result<Principal, TokenError> {
        let name = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or(TokenError::Invalid("no subject"))?;
        // A dotted claim name reaches into objects (`realm_access.roles`).
        let groups = self
            .config
            .groups_claim
            .split('.')
            .try_fold(claims, |v, k| v.get(k));
        let groups = match groups {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
            _ => Vec::new(),
        };
        Ok(Principal::User {
            name: name.to_string(),
            groups,
        })
    }

    /// Fetches the JWKS again unless it was fetched (or tried) very recently.
    async fn refresh(&self) -> Result<(), TokenError> {
        let mut last_try = self.fetching.lock().await;
        let min = Duration::from_secs(self.config.jwks_min_refresh_secs);
        if let Some(t) = *last_try
            && t.elapsed() < min
        {
            // Fetched moments ago (maybe by a concurrent request): use what we have,
            // unless we have nothing because that fetch failed.
            let have = self.keys.read().await.fetched.is_some();
            return if have {
                Ok(())
            } else {
                Err(TokenError::Unavailable)
            };
        }
        *last_try = Some(Instant::now());
        match self.fetch().await {
            Ok(set) => {
                let mut keys = self.keys.write().await;
                keys.by_kid.clear();
                keys.anonymous.clear();
                for jwk in &set.keys {
                    let Ok(key) = DecodingKey::from_jwk(jwk) else {
                        continue;
                    };
                    match &jwk.common.key_id {
                        Some(kid) => {
                            keys.by_kid.insert(kid.clone(), key);
                        }
                        None => keys.anonymous.push(key),
                    }
                }
                keys.fetched = Some(Instant::now());
                Ok(())
            }
            Err(e) => {
                tracing::warn!("oidc {}: cannot fetch the signing keys: {e}", self.issuer());
                if self.keys.read().await.fetched.is_some() {
                    // Keep the keys we have: an IdP hiccup must not sign everyone out.
                    Ok(())
                } else {
                    Err(TokenError::Unavailable)
                }
            }
        }
    }

    async fn fetch(&self) -> Result<JwkSet, String> {
        let url = match &self.config.jwks_url {
            Some(u) => u.clone(),
            None => {
                let discovery = format!(
                    "{}/.well-known/openid-configuration",
                    self.config.issuer.trim_end_matches('/')
                );
                let doc: Value = self.get_json(&discovery).await?;
                doc.get("jwks_uri")
                    .and_then(Value::as_str)
                    .ok_or("the discovery document has no jwks_uri")?
                    .to_string()
            }
        };
        self.get_json(&url).await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{url}: HTTP {}", response.status()));
        }
        let body = response.bytes().await.map_err(|e| format!("{url}: {e}"))?;
        if body.len() > 1 << 20 {
            return Err(format!("{url}: more than 1 MiB"));
        }
        serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))
    }
}

/// What is wrong with a token, in words safe to show (no token content).
fn reason(kind: &jsonwebtoken::errors::ErrorKind) -> &'static str {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::ExpiredSignature => "expired",
        K::ImmatureSignature => "not yet valid",
        K::InvalidAudience => "not issued for this service",
        K::InvalidIssuer => "from another issuer",
        K::InvalidSignature => "bad signature",
        K::MissingRequiredClaim(_) => "a required claim is missing",
        K::InvalidAlgorithm => "algorithm does not match the key",
        _ => "malformed",
    }
}

/// The `iss` a token claims, read without checking it (to pick the issuer whose keys
/// then check everything).
pub fn claimed_issuer(token: &str) -> Option<String> {
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    claims.get("iss")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use base64::Engine;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const ISS: &str = "https://idp.example.org/realms/ocean";

    struct Signer {
        pkcs8: Vec<u8>,
        public: DecodingKey,
    }

    fn signer() -> Signer {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let public =
            DecodingKey::from_ec_components(&b64(&point[1..33]), &b64(&point[33..65])).unwrap();
        Signer {
            pkcs8: pkcs8.as_ref().to_vec(),
            public,
        }
    }

    fn sign(s: &Signer, kid: &str, claims: Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_der(&s.pkcs8)).unwrap()
    }

    /// An issuer holding `key` as `k1`, whose JWKS URL answers nothing (refreshes fail
    /// fast and keep the keys).
    async fn issuer(key: &Signer) -> Issuer {
        let issuer = Issuer::new(OidcConfig {
            issuer: ISS.into(),
            jwks_url: Some("http://127.0.0.1:9/certs".into()),
            audience: "datagate".into(),
            groups_claim: "realm_access.roles".into(),
            leeway_secs: 5,
            jwks_cache_secs: 3600,
            jwks_min_refresh_secs: 0,
        });
        {
            let mut keys = issuer.keys.write().await;
            keys.by_kid.insert("k1".into(), key.public.clone());
            keys.fetched = Some(Instant::now());
        }
        issuer
    }

    fn claims(extra: Value) -> Value {
        let now = jsonwebtoken::get_current_timestamp();
        let mut c = json!({
            "iss": ISS, "aud": "datagate", "sub": "u-1", "exp": now + 60,
            "realm_access": {"roles": ["ocean-team"]},
        });
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    }

    #[tokio::test]
    async fn valid_token_gives_subject_and_nested_groups() {
        let key = signer();
        let issuer = issuer(&key).await;
        let p = issuer.verify(&sign(&key, "k1", claims(json!({})))).await;
        assert_eq!(
            p,
            Ok(Principal::User {
                name: "u-1".into(),
                groups: vec!["ocean-team".into()]
            })
        );
    }

    #[tokio::test]
    async fn bad_tokens_are_refused_with_a_reason() {
        let key = signer();
        let other = signer();
        let issuer = issuer(&key).await;
        let now = jsonwebtoken::get_current_timestamp();
        let cases = [
            (
                sign(&key, "k1", claims(json!({"exp": now - 60}))),
                "expired",
            ),
            (
                sign(&key, "k1", claims(json!({"nbf": now + 600}))),
                "not yet valid",
            ),
            (
                sign(&key, "k1", claims(json!({"aud": "other"}))),
                "not issued for this service",
            ),
            (
                sign(&key, "k1", claims(json!({"iss": "https://evil"}))),
                "from another issuer",
            ),
            (sign(&other, "k1", claims(json!({}))), "bad signature"),
            (
                sign(&other, "k2", claims(json!({}))),
                "signed by an unknown key",
            ),
            (sign(&key, "k1", claims(json!({"sub": ""}))), "no subject"),
            ("a.b.c".to_string(), "malformed"),
        ];
        for (token, why) in cases {
            assert_eq!(
                issuer.verify(&token).await,
                Err(TokenError::Invalid(why)),
                "{why}"
            );
        }
        // Within the leeway, an expired token still passes.
        let late = sign(&key, "k1", claims(json!({"exp": now - 2})));
        assert!(issuer.verify(&late).await.is_ok());
        // A symmetric algorithm is never accepted, whatever the key.
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(json!({})),
            &EncodingKey::from_secret(b"secret").unwrap(),
        )
        .unwrap();
        assert_eq!(
            issuer.verify(&hs).await,
            Err(TokenError::Invalid("algorithm not accepted"))
        );
    }

    #[tokio::test]
    async fn no_keys_and_no_provider_is_unavailable() {
        let issuer = Issuer::new(OidcConfig {
            issuer: ISS.into(),
            jwks_url: Some("http://127.0.0.1:9/certs".into()),
            audience: "datagate".into(),
            groups_claim: "groups".into(),
            leeway_secs: 0,
            jwks_cache_secs: 3600,
            jwks_min_refresh_secs: 60,
        });
        let key = signer();
        let token = sign(&key, "k1", claims(json!({})));
        assert_eq!(issuer.verify(&token).await, Err(TokenError::Unavailable));
        // Within the refresh interval the provider is not asked again.
        assert_eq!(issuer.verify(&token).await, Err(TokenError::Unavailable));
        assert_eq!(claimed_issuer(&token).as_deref(), Some(ISS));
    }
}
