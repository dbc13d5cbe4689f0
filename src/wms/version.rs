//! The WMS versions served and their negotiation.

use super::params;

/// The two protocol versions served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    V111,
    V130,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V111 => "1.1.1",
            Version::V130 => "1.3.0",
        }
    }

    /// GetCapabilities negotiation (WMS 1.3.0 §6.2.4): no version or one at least
    /// 1.3.0 gets 1.3.0; one below gets the highest version not above it, and one
    /// below every version gets the lowest.
    pub fn negotiate(requested: Option<&str>) -> Version {
        let Some(v) = requested.map(str::trim).filter(|v| !v.is_empty()) else {
            return Version::V130;
        };
        let parts: Vec<u32> = v
            .split('.')
            .map(|p| p.trim().parse().unwrap_or(0))
            .collect();
        let key = (
            parts.first().copied().unwrap_or(0),
            parts.get(1).copied().unwrap_or(0),
            parts.get(2).copied().unwrap_or(0),
        );
        if key >= (1, 3, 0) {
            Version::V130
        } else {
            Version::V111
        }
    }

    /// The version of an operation other than GetCapabilities: VERSION if given,
    /// else 1.1.1 when the request uses 1.1.1's `SRS`, else 1.3.0.
    pub(super) fn of_request(p: &params::Params) -> Version {
        match p.non_empty("VERSION").or_else(|| p.non_empty("WMTVER")) {
            Some(v) => Version::negotiate(Some(v)),
            None if p.non_empty("SRS").is_some() && p.non_empty("CRS").is_none() => Version::V111,
            None => Version::V130,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_negotiation() {
        assert_eq!(Version::negotiate(None), Version::V130);
        assert_eq!(Version::negotiate(Some("1.3.0")), Version::V130);
        assert_eq!(Version::negotiate(Some("2.0.0")), Version::V130);
        assert_eq!(Version::negotiate(Some("1.1.1")), Version::V111);
        assert_eq!(Version::negotiate(Some("1.2.0")), Version::V111);
        assert_eq!(Version::negotiate(Some("1.0.0")), Version::V111);
        let p = params::Params::parse(Some("SRS=EPSG:4326"));
        assert_eq!(Version::of_request(&p), Version::V111);
        let p = params::Params::parse(Some("CRS=EPSG:4326"));
        assert_eq!(Version::of_request(&p), Version::V130);
    }
}
