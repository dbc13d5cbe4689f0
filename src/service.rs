//! A protocol (or catalog) as a *service*: its routes, the caches it builds from the
//! configuration at start-up, and the endpoints it offers for each dataset. The
//! landing page, `/datasets`, STAC assets, THREDDS catalogs and the intake catalog
//! list a dataset's endpoints by asking every service, so adding a protocol is one
//! folder plus one line in the server's service list (`server::services`).

use axum::Router;

use crate::app::AppState;
use crate::endpoint::EndpointDirectory;
pub use crate::endpoint::{Endpoint, IntakeSource, ThreddsService};

/// A protocol or catalog front-end.
pub trait Service: Send + Sync {
    /// A short name (`opendap`, `zarr`...), for logs and tests.
    fn name(&self) -> &'static str;

    /// The service's routes, with their own state (caches) inside.
    fn router(&self, state: &AppState) -> Router;

    /// The endpoints it offers for dataset `id`, with `base` the public base URL.
    fn endpoints(&self, _base: &str, _id: &str) -> Vec<Endpoint> {
        Vec::new()
    }

    /// Server-wide links for the landing page (an API root, a capabilities document).
    fn service_links(&self, _base: &str) -> Vec<Endpoint> {
        Vec::new()
    }

    /// Its entries in THREDDS catalogs' compound service.
    fn thredds_services(&self) -> Vec<ThreddsService> {
        Vec::new()
    }
}

/// The services of a running server, in the order their links are listed.
#[derive(Clone, Default)]
pub struct Services(pub std::sync::Arc<Vec<std::sync::Arc<dyn Service>>>);

impl Services {
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|s| s.name()).collect()
    }
}

impl EndpointDirectory for Services {
    fn endpoints(&self, base: &str, id: &str) -> Vec<Endpoint> {
        self.0.iter().flat_map(|s| s.endpoints(base, id)).collect()
    }

    fn service_links(&self, base: &str) -> Vec<Endpoint> {
        self.0.iter().flat_map(|s| s.service_links(base)).collect()
    }

    fn thredds_services(&self) -> Vec<ThreddsService> {
        self.0.iter().flat_map(|s| s.thredds_services()).collect()
    }
}
