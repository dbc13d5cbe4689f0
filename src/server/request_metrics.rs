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
    // The id may follow fixed segments (`/edr/collections/{id}/position`): try the
    // first few segment starts (bounded: a path of many segments costs no more).
    let mut start = 0;
    for _ in 0..MAX_FIXED_SEGMENTS + 1 {
        if let Some((id, _)) = state.catalog.resolve(&rest[start..]) {
            return (service, Some(id));
        }
        match rest[start..].find('/') {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    (service, None)
}

/// Fixed segments a route may put between the service and the dataset id.
const MAX_FIXED_SEGMENTS: usize = 2;

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
