//! XYZ tiles: `tiles/{layer}/{z}/{x}/{y}.png` as a 256×256 Web Mercator GetMap.

use axum::response::Response;

use crate::app::AppState;

use super::Version;
use super::crs::tile_bbox;
use super::error::{ExceptionMode, WmsError, exception_response};
use super::params::Params;
use super::service::{Scope, Wms};

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

impl Wms {
    /// An XYZ tile: a 256×256 Web Mercator GetMap (transparent unless asked).
    pub async fn tile(&self, state: &AppState, tile: TilePath, query: Option<&str>) -> Response {
        let mut p = Params::parse(query);
        let Some(b) = tile_bbox(tile.z, tile.x, tile.y) else {
            let e = WmsError::invalid(&format!("no tile {}/{}/{}", tile.z, tile.x, tile.y));
            return exception_response(&e, Version::V130, ExceptionMode::Xml, None);
        };
        p.set("LAYERS", tile.layer);
        p.set("CRS", "EPSG:3857");
        p.set("BBOX", format!("{},{},{},{}", b[0], b[1], b[2], b[3]));
        p.set("WIDTH", "256");
        p.set("HEIGHT", "256");
        p.set("FORMAT", "image/png");
        if let Some(s) = p.non_empty("STYLE").map(str::to_string) {
            p.set("STYLES", s);
        }
        if p.non_empty("TRANSPARENT").is_none() {
            p.set("TRANSPARENT", "TRUE");
        }
        match self.get_map(state, &Scope::All, &p, Version::V130).await {
            Ok(r) => r,
            Err(e) => exception_response(&e, Version::V130, ExceptionMode::Xml, None),
        }
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
