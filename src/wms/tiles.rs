//! XYZ tile addresses: `tiles/{layer}/{z}/{x}/{y}.png` (served as a 256×256 Web
//! Mercator GetMap by the service).

/// An XYZ tile request path: `tiles/{layer}/{z}/{x}/{y}.png`.
#[derive(Debug, Clone, PartialEq)]
pub struct TilePath {
    pub layer: String,
    pub z: u32,
    pub x: u32,
    pub y: u32,
}

impl TilePath {
    pub fn parse(rest: &str) -> Option<TilePath> {
        let rest = rest.strip_prefix("tiles/")?;
        let mut parts = rest.rsplitn(4, '/');
        let y = parts.next()?.strip_suffix(".png")?.parse().ok()?;
        let x = parts.next()?.parse().ok()?;
        let z = parts.next()?.parse().ok()?;
        let layer = parts.next()?.to_string();
        Some(TilePath { layer, z, x, y })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_paths() {
        assert_eq!(
            TilePath::parse("tiles/a/b.nc/sst/3/4/5.png"),
            Some(TilePath {
                layer: "a/b.nc/sst".into(),
                z: 3,
                x: 4,
                y: 5
            })
        );
        assert_eq!(TilePath::parse("tiles/x/1/2/3.jpg"), None);
        assert_eq!(TilePath::parse("sst.nc"), None);
        assert_eq!(TilePath::parse("tiles/1/2/3.png"), None);
    }
}
