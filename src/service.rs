//! A protocol (or catalog) as a *service*: its routes, the caches it builds from the
//! configuration at start-up, and the endpoints it offers for each dataset. The
//! landing page, `/datasets`, STAC assets, THREDDS catalogs and the intake catalog
//! list a dataset's endpoints by asking every service, so adding a protocol is one
//! folder plus one line in the server's service list (`server::services`).

use axum::Router;

use crate::app::AppState;

/// One way to reach a dataset through a service.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// A stable key: the link relation on the landing page and in `/datasets`, and the
    /// STAC asset key (`opendap`, `zarr`, `edr`...).
    pub rel: &'static str,
    pub title: &'static str,
    /// Absolute URL.
    pub href: String,
    /// What the URL answers with.
    pub media_type: &'static str,
    /// STAC asset roles; an endpoint without roles is a link, not an asset.
    pub roles: &'static [&'static str],
    /// Extra STAC asset fields (`zarr:zarr_format`...), as a JSON object or null.
    pub asset_fields: serde_json::Value,
    /// How intake opens it, if it can.
    pub intake: Option<IntakeSource>,
}

impl Endpoint {
    pub fn new(
        rel: &'static str,
        title: &'static str,
        href: String,
        media_type: &'static str,
    ) -> Endpoint {
        Endpoint {
            rel,
            title,
            href,
            media_type,
            roles: &[],
            asset_fields: serde_json::Value::Null,
            intake: None,
        }
    }

    pub fn roles(mut self, roles: &'static [&'static str]) -> Endpoint {
        self.roles = roles;
        self
    }

    pub fn asset_fields(mut self, fields: serde_json::Value) -> Endpoint {
        self.asset_fields = fields;
        self
    }

    pub fn intake(mut self, source: IntakeSource) -> Endpoint {
        self.intake = Some(source);
        self
    }
}

/// An intake source for an endpoint: driver name, its `args` besides `urlpath`, and
/// the suffix of the source name (`""`, `"_zarr"`).
#[derive(Debug, Clone, PartialEq)]
pub struct IntakeSource {
    pub driver: &'static str,
    pub name_suffix: &'static str,
    pub description_suffix: &'static str,
    pub args: &'static [(&'static str, &'static str)],
}

/// A THREDDS catalog `<service>`: the access method clients join with a dataset's
/// `urlPath` (`{base}{id}`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThreddsService {
    pub name: &'static str,
    pub service_type: &'static str,
    /// Path below the server's base URL, with leading and trailing `/`.
    pub base: &'static str,
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
}

/// The services of a running server, in the order their links are listed.
#[derive(Clone, Default)]
pub struct Services(pub std::sync::Arc<Vec<std::sync::Arc<dyn Service>>>);

impl Services {
    /// Every endpoint of dataset `id`.
    pub fn endpoints(&self, base: &str, id: &str) -> Vec<Endpoint> {
        self.0.iter().flat_map(|s| s.endpoints(base, id)).collect()
    }

    pub fn service_links(&self, base: &str) -> Vec<Endpoint> {
        self.0.iter().flat_map(|s| s.service_links(base)).collect()
    }

    pub fn thredds_services(&self) -> Vec<ThreddsService> {
        self.0.iter().flat_map(|s| s.thredds_services()).collect()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|s| s.name()).collect()
    }
}
