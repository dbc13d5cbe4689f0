//! `[auth]` and `[[access]]`: how people sign in and which datasets they may read.

use serde::Deserialize;

/// `[auth]`: sign-in methods (see docs/auth.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Apache htpasswd file with bcrypt hashes (relative to the config file).
    pub users_file: Option<String>,
    /// Apache group file (`group: user1 user2`): groups of the Basic users.
    pub groups_file: Option<String>,
    /// OIDC issuers whose bearer tokens are accepted.
    pub oidc: Vec<OidcConfig>,
    /// Failed sign-ins one client address may make per window before it is refused.
    pub max_failures: u32,
    pub failure_window_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            users_file: None,
            groups_file: None,
            oidc: Vec::new(),
            max_failures: 20,
            failure_window_secs: 300,
        }
    }
}

/// `[[auth.oidc]]`: one identity provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The `iss` of its tokens.
    pub issuer: String,
    /// Its signing keys; by default from `{issuer}/.well-known/openid-configuration`.
    pub jwks_url: Option<String>,
    /// The `aud` tokens must carry.
    pub audience: String,
    /// The claim holding the user's groups (dotted for nested: `realm_access.roles`).
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
    /// Keys are fetched again after this long...
    #[serde(default = "default_jwks_cache")]
    pub jwks_cache_secs: u64,
    /// ...or on a token with an unknown key id, but at most once per this many seconds.
    #[serde(default = "default_jwks_min_refresh")]
    pub jwks_min_refresh_secs: u64,
}

fn default_groups_claim() -> String {
    "groups".into()
}
fn default_leeway() -> u64 {
    30
}
fn default_jwks_cache() -> u64 {
    3600
}
fn default_jwks_min_refresh() -> u64 {
    30
}

/// `[[access]]`: datasets (a glob over ids) and the principals admitted to them
/// (`user:NAME`, `group:NAME`, `authenticated`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRule {
    pub datasets: String,
    #[serde(default)]
    pub allow: Vec<String>,
}
