//! A protocol (or catalog) as a *service*: its routes, the caches it builds from the
//! configuration at start-up, and the endpoints it offers for each dataset. The
//! landing page, `/datasets`, STAC assets, THREDDS catalogs and the intake catalog
//! list a dataset's endpoints by asking every service, so adding a protocol is one
//! folder plus one line in the server's service list (`server::services`).

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;

use crate::app::AppState;
use crate::endpoint::EndpointDirectory;
pub use crate::endpoint::{Endpoint, IntakeSource, ThreddsService};

/// The kinds of expensive work admission control bounds separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkClass {
    /// Reading and encoding data (DAP data, Zarr chunks, downloads).
    Read,
    /// Drawing maps (WMS GetMap, tiles, GetFeatureInfo).
    Render,
    /// Geometry queries over grids (EDR).
    Query,
}

/// A request as the server-level guards see it, for a service to render an error.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    pub path: &'a str,
    pub query: Option<&'a str>,
}

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

    /// The URL path prefixes it answers (`/opendap/`): errors the server raises itself
    /// for such a request (overload, time-out, a URL too long, a panic) are rendered
    /// by `error_response`.
    fn paths(&self) -> &'static [&'static str] {
        &[]
    }

    /// An error in the service's own form (DAP `Error {…}`, WMS ServiceException...).
    fn error_response(&self, _req: RequestInfo<'_>, status: StatusCode, message: &str) -> Response {
        crate::http::json_error(status, message)
    }

    /// The catalogued datasets a request reads (its path, layer parameters...), for
    /// the server's access check, which runs before any handler. Listings return none
    /// and filter themselves with `AppState::visible`.
    fn datasets(&self, _state: &AppState, _req: RequestInfo<'_>) -> Vec<String> {
        Vec::new()
    }

    /// The kind of expensive work a request is, if it is expensive.
    fn work_class(&self, _req: RequestInfo<'_>) -> Option<WorkClass> {
        None
    }
}

/// The dataset a path below a service's prefix names (the longest catalogued id that
/// prefixes it), for `Service::datasets`.
pub fn dataset_under(state: &AppState, path: &str, prefix: &str) -> Vec<String> {
    path.strip_prefix(prefix)
        .and_then(|rest| state.catalog.resolve(rest.trim_start_matches('/')))
        .map(|(id, _)| vec![id])
        .unwrap_or_default()
}

/// The services of a running server, in the order their links are listed.
#[derive(Clone, Default)]
pub struct Services(pub std::sync::Arc<Vec<std::sync::Arc<dyn Service>>>);

impl Services {
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|s| s.name()).collect()
    }

    /// The service answering `path` (the longest matching prefix).
    pub fn owner(&self, path: &str) -> Option<&std::sync::Arc<dyn Service>> {
        self.0
            .iter()
            .filter_map(|s| {
                let len = s
                    .paths()
                    .iter()
                    .filter(|p| path.starts_with(*p) || path == p.trim_end_matches('/'))
                    .map(|p| p.len())
                    .max()?;
                Some((len, s))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, s)| s)
    }

    /// An error for `req` in the form of the service answering it (JSON otherwise).
    pub fn error_response(
        &self,
        req: RequestInfo<'_>,
        status: StatusCode,
        message: &str,
    ) -> Response {
        match self.owner(req.path) {
            Some(s) => s.error_response(req, status, message),
            None => crate::http::json_error(status, message),
        }
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
