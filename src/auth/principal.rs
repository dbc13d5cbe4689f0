//! Who a request comes from, as the access rules see it, and the extractor handlers use
//! to read it (put in the request's extensions by the server's access middleware).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The one making a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Principal {
    /// No credentials (or access control not configured).
    #[default]
    Anonymous,
    /// Signed in: an htpasswd user (no groups) or an OIDC subject with its groups.
    User { name: String, groups: Vec<String> },
}

impl Principal {
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Principal::Anonymous)
    }
}

/// The request's principal, for handlers: anonymous when the access middleware did not
/// run (a router built without it sees only public datasets, never more).
#[derive(Debug, Clone, Default)]
pub struct Viewer(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Viewer(
            parts
                .extensions
                .get::<Principal>()
                .cloned()
                .unwrap_or_default(),
        ))
    }
}
