//! Access control (app layer, knows no protocol): who a request comes from (HTTP Basic
//! against an htpasswd file, or an OIDC bearer token) and which datasets they may see
//! (`[[access]]` rules). The server's access middleware asks `Access` once per request;
//! listings ask `Access::visible` per dataset. Credentials and tokens are never logged,
//! never put in errors, and only a salted digest of a verified Basic pair is kept.

mod failures;
mod groups;
mod htpasswd;
mod oidc;
mod principal;
mod rules;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::config::Config;
pub use principal::{Principal, Viewer};
pub use rules::{Allow, glob};

/// The realm of the Basic challenge.
pub const REALM: &str = "datagate";

/// Why a request's credentials are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// Wrong user or password, or no credentials where they are needed: 401 with a
    /// challenge.
    Invalid(&'static str),
    /// A bearer token that is not accepted: 401, `error="invalid_token"` (RFC 6750).
    InvalidToken(&'static str),
    /// Too many failures from this address lately: 429.
    TooManyFailures,
    /// The identity provider's keys cannot be fetched: 503.
    Unavailable,
}

impl AuthError {
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::Invalid(_) | AuthError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            AuthError::TooManyFailures => StatusCode::TOO_MANY_REQUESTS,
            AuthError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn message(&self) -> String {
        match self {
            AuthError::Invalid(why) => format!("the credentials are not accepted: {why}"),
            AuthError::InvalidToken(why) => format!("the bearer token is not accepted: {why}"),
            AuthError::TooManyFailures => {
                "too many failed sign-ins from this address; try again later".into()
            }
            AuthError::Unavailable => {
                "bearer tokens cannot be checked now (the identity provider is unreachable)".into()
            }
        }
    }
}

/// What a principal may do with one dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// No rule covers it.
    Public,
    /// Restricted, and the principal is admitted.
    Admitted,
    /// Restricted, and the principal is not admitted.
    Denied,
}

/// Authentication and access rules, built once from the configuration.
pub struct Access {
    rules: rules::Rules,
    users: Option<htpasswd::Users>,
    /// Groups of Basic users (`auth.groups_file`).
    groups: groups::Groups,
    issuers: Vec<oidc::Issuer>,
    failures: failures::Failures,
    /// Verified Basic pairs (by salted digest) → user, so the slow bcrypt check runs
    /// once per pair and few minutes, not once per request (netCDF-C sends the pair
    /// with every request).
    verified: moka::sync::Cache<[u8; 32], String>,
    salt: [u8; 16],
    /// bcrypt checks running at once: bounded, so a flood of guesses from many
    /// addresses queues instead of taking every core.
    hashing: tokio::sync::Semaphore,
    /// Whether anything is configured: without it, `Authorization` is ignored.
    enabled: bool,
    /// How long an address waits after too many failures, at most.
    window: Duration,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl Default for Access {
    fn default() -> Self {
        Access::new(&Config::default()).0
    }
}

impl Access {
    /// Builds access control from `config`, with problems to log. A problem never
    /// opens data: bad rules make every dataset they could cover refused to everyone
    /// (`Config::problems` stops the server first), an unreadable users file signs
    /// no one in.
    pub fn new(config: &Config) -> (Access, Vec<String>) {
        let mut problems = Vec::new();
        let rules = rules::Rules::new(&config.access).unwrap_or_else(|e| {
            problems.push(e);
            // Fail closed: one rule matching everything, admitting no one.
            rules::Rules::new(&[crate::config::AccessRule {
                datasets: "**".into(),
                allow: Vec::new(),
            }])
            .unwrap_or_default()
        });
        let users = config.auth.users_file.as_ref().map(|f| {
            let path = config.base_dir.join(f);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let (users, p) = htpasswd::Users::parse(&text);
                    tracing::info!("auth: {} HTTP Basic users", users.len());
                    problems.extend(p.into_iter().map(|p| format!("auth.users_file: {p}")));
                    users
                }
                Err(e) => {
                    problems.push(format!("auth.users_file {f:?}: {e}"));
                    htpasswd::Users::default()
                }
            }
        });
        let groups = match &config.auth.groups_file {
            Some(f) => match std::fs::read_to_string(config.base_dir.join(f)) {
                Ok(text) => {
                    let (groups, p) = groups::Groups::parse(&text);
                    problems.extend(p.into_iter().map(|p| format!("auth.groups_file: {p}")));
                    groups
                }
                Err(e) => {
                    problems.push(format!("auth.groups_file {f:?}: {e}"));
                    groups::Groups::default()
                }
            },
            None => groups::Groups::default(),
        };
        let issuers: Vec<_> = config
            .auth
            .oidc
            .iter()
            .cloned()
            .map(oidc::Issuer::new)
            .collect();
        let enabled = !rules.is_empty() || users.is_some() || !issuers.is_empty();
        let mut salt = [0u8; 16];
        let seed = format!(
            "{:?}{:?}",
            std::time::SystemTime::now(),
            std::thread::current().id()
        );
        salt.copy_from_slice(&Sha256::digest(seed.as_bytes())[..16]);
        let window = Duration::from_secs(config.auth.failure_window_secs.max(1));
        let access = Access {
            rules,
            users,
            groups,
            issuers,
            failures: failures::Failures::new(config.auth.max_failures, window),
            verified: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(300))
                .build(),
            salt,
            hashing: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
            enabled,
            window,
        };
        (access, problems)
    }

    /// Whether any authentication or rule is configured.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The `Retry-After` of a 429 for too many failures.
    pub fn failure_window(&self) -> Duration {
        self.window
    }

    /// The `WWW-Authenticate` challenges of a 401 (for `error`, the refusal).
    pub fn challenges_for(&self, error: &AuthError) -> Vec<HeaderValue> {
        let mut out = vec![HeaderValue::from_static("Basic realm=\"datagate\"")];
        if matches!(error, AuthError::InvalidToken(_)) {
            out.push(HeaderValue::from_static(
                "Bearer realm=\"datagate\", error=\"invalid_token\"",
            ));
        } else if !self.issuers.is_empty() {
            out.push(HeaderValue::from_static("Bearer realm=\"datagate\""));
        }
        out
    }

    /// The `WWW-Authenticate` challenges asking for credentials.
    pub fn challenges(&self) -> Vec<HeaderValue> {
        self.challenges_for(&AuthError::Invalid("no credentials"))
    }

    /// Who sent the request, from its `Authorization` header (anonymous without one).
    pub async fn authenticate(
        self: &Arc<Self>,
        headers: &HeaderMap,
        client: Option<IpAddr>,
    ) -> Result<Principal, AuthError> {
        if !self.enabled {
            return Ok(Principal::Anonymous);
        }
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Ok(Principal::Anonymous);
        };
        if let Some(ip) = client
            && !self.failures.allowed(ip)
        {
            return Err(AuthError::TooManyFailures);
        }
        let result = self.check(value).await;
        if let (Err(AuthError::Invalid(_) | AuthError::InvalidToken(_)), Some(ip)) =
            (&result, client)
        {
            self.failures.record(ip);
        }
        result
    }

    async fn check(self: &Arc<Self>, value: &HeaderValue) -> Result<Principal, AuthError> {
        let value = value
            .to_str()
            .map_err(|_| AuthError::Invalid("malformed"))?;
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or(AuthError::Invalid("malformed"))?;
            let (user, password) = decoded
                .split_once(':')
                .ok_or(AuthError::Invalid("malformed"))?;
            self.basic(user, password).await
        } else if scheme.eq_ignore_ascii_case("bearer") {
            self.bearer(rest).await
        } else {
            Err(AuthError::Invalid("unsupported scheme"))
        }
    }

    async fn basic(self: &Arc<Self>, user: &str, password: &str) -> Result<Principal, AuthError> {
        if self.users.is_none() {
            return Err(AuthError::Invalid("no Basic users here"));
        }
        let digest: [u8; 32] = Sha256::new()
            .chain_update(self.salt)
            .chain_update(user.as_bytes())
            .chain_update([0u8])
            .chain_update(password.as_bytes())
            .finalize()
            .into();
        if let Some(name) = self.verified.get(&digest) {
            return Ok(Principal::User {
                groups: self.groups.of(&name),
                name,
            });
        }
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|_| AuthError::Invalid("wrong user or password"))?;
        let (access, u, p) = (self.clone(), user.to_string(), password.to_string());
        // bcrypt is slow on purpose: off the executor.
        let ok = tokio::task::spawn_blocking(move || {
            access
                .users
                .as_ref()
                .is_some_and(|users| users.verify(&u, &p))
        })
        .await
        .unwrap_or(false);
        if !ok {
            return Err(AuthError::Invalid("wrong user or password"));
        }
        self.verified.insert(digest, user.to_string());
        Ok(Principal::User {
            name: user.to_string(),
            groups: self.groups.of(user),
        })
    }

    async fn bearer(&self, token: &str) -> Result<Principal, AuthError> {
        let claimed =
            oidc::claimed_issuer(token).ok_or(AuthError::InvalidToken("malformed token"))?;
        let issuer = self
            .issuers
            .iter()
            .find(|i| i.issuer() == claimed)
            .ok_or(AuthError::InvalidToken("token from an unknown issuer"))?;
        issuer.verify(token).await.map_err(|e| match e {
            oidc::TokenError::Invalid(why) => AuthError::InvalidToken(why),
            oidc::TokenError::Unavailable => AuthError::Unavailable,
        })
    }

    /// What `p` may do with dataset `id`. An aggregation is restricted when its own
    /// rule or any member's is, and admits only those every such rule admits.
    pub fn decide(&self, p: &Principal, id: &str, catalog: &Catalog) -> Decision {
        if self.rules.is_empty() {
            return Decision::Public;
        }
        let members = catalog.collection_members(id).unwrap_or_default();
        let mut decision = Decision::Public;
        for one in std::iter::once(id).chain(members.iter().map(String::as_str)) {
            match self.rules.admits(one, p) {
                None => {}
                Some(true) => decision = Decision::Admitted,
                Some(false) => return Decision::Denied,
            }
        }
        decision
    }

    /// Whether `p` may see dataset `id` at all (listings, links, search results).
    pub fn visible(&self, p: &Principal, id: &str, catalog: &Catalog) -> bool {
        self.decide(p, id, catalog) != Decision::Denied
    }

    /// Whether dataset `id` is restricted to anyone (its answers are private).
    pub fn restricted(&self, id: &str, catalog: &Catalog) -> bool {
        self.decide(&Principal::Anonymous, id, catalog) != Decision::Public
    }
}

#[cfg(test)]
mod tests;
