//! Which service and dataset a request is about, for the request metrics: the service
//! is the first path segment (`/opendap/...` → `opendap`; routes are a fixed set), the
//! dataset the longest catalog id found in the rest of the path.

use crate::app::AppState;

/// The service label of a path's first segment: the routes' own names, anything
/// else `other` (unmatched paths must not create labels).
fn service_of(first: &str) -> &'static str {
    match first {
        "" => "landing",
        "opendap" => "opendap",
        "zarr" => "zarr",
        "edr" => "edr",
        "wms" => "wms",
        "stac" => "stac",
        "thredds" => "thredds",
        "intake" => "intake",
        "files" => "files",
        "datasets" => "datasets",
        "healthz" | "readyz" | "metrics" => "operations",
        _ => "other",
    }
}

/// The service and dataset (if the path names one) of a request path.
pub fn service_and_dataset(state: &AppState, path: &str) -> (&'static str, Option<String>) {
    let path = path.trim_start_matches('/');
    let (first, rest) = path.split_once('/').unwrap_or((path, ""));
    let service = service_of(first);
    if matches!(service, "landing" | "operations" | "other") || rest.is_empty() {
        return (service, None);
    }
    // Longer paths are refused by the guards (414); `resolve` costs grow with length.
    if path.len() > state.config.server.max_url_bytes {
        return (service, None);
    }
    // The id follows the service (`/opendap/{id}.dds`, `/zarr/{id}/...`), or its
    // `collections/` (`/edr/collections/{id}/position`, `/stac/collections/{id}`).
    let id = state.catalog.resolve(rest).or_else(|| {
        rest.strip_prefix("collections/")
            .and_then(|r| state.catalog.resolve(r))
    });
    (service, id.map(|(id, _)| id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_a_fixed_set() {
        assert_eq!(service_of("opendap"), "opendap");
        assert_eq!(service_of("wp-admin"), "other");
        assert_eq!(service_of(""), "landing");
    }
}
