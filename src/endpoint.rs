//! Endpoints: the ways a dataset is reached through the services, and the directory
//! that lists them. Landing page, `/datasets`, STAC, THREDDS and intake read the
//! directory in `AppState`; the server fills it from its service list.

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

/// Lists endpoints across every service (the server's service list).
pub trait EndpointDirectory: Send + Sync {
    /// Every endpoint of dataset `id`, with `base` the public base URL.
    fn endpoints(&self, base: &str, id: &str) -> Vec<Endpoint>;
    /// Server-wide links (API roots, capabilities documents).
    fn service_links(&self, base: &str) -> Vec<Endpoint>;
    /// Entries of THREDDS catalogs' compound service.
    fn thredds_services(&self) -> Vec<ThreddsService>;
}

/// A directory with nothing in it: the state before the server installs its services.
pub struct NoEndpoints;

impl EndpointDirectory for NoEndpoints {
    fn endpoints(&self, _base: &str, _id: &str) -> Vec<Endpoint> {
        Vec::new()
    }
    fn service_links(&self, _base: &str) -> Vec<Endpoint> {
        Vec::new()
    }
    fn thredds_services(&self) -> Vec<ThreddsService> {
        Vec::new()
    }
}
