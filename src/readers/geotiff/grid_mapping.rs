//! The attributes of the `spatial_ref` grid-mapping variable: the EPSG code, GDAL's
//! GeoTransform, and, for the CRSs most rasters use (WGS 84, its UTM zones, Web
//! Mercator), the CF grid-mapping parameters and the WKT that rioxarray and GDAL read
//! back. Other codes get the EPSG code only: writing WKT needs the full definition.

use super::georef::{Crs, Georef};
use crate::model::{AttrValue, Attribute};

const WGS84_GEOGCS: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]]"#;

const METRE_AXES: &str =
    r#"UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH]"#;

fn text(name: &str, value: impl Into<String>) -> Attribute {
    Attribute::new(name, AttrValue::Text(value.into()))
}

fn number(name: &str, value: f64) -> Attribute {
    Attribute::new(name, AttrValue::F64(vec![value]))
}

/// WKT and CF parameters of the well-known CRSs.
fn known(epsg: u16) -> Option<(String, Vec<Attribute>)> {
    let ellipsoid = || {
        vec![
            number("semi_major_axis", 6_378_137.0),
            number("inverse_flattening", 298.257_223_563),
        ]
    };
    match epsg {
        4326 => {
            let wkt = format!(
                r#"{WGS84_GEOGCS},AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#
            );
            let mut cf = vec![text("grid_mapping_name", "latitude_longitude")];
            cf.extend(ellipsoid());
            Some((wkt, cf))
        }
        // WGS 84 / UTM zones, north (326zz) and south (327zz).
        32601..=32660 | 32701..=32760 => {
            let north = epsg < 32700;
            let zone = epsg % 100;
            let meridian = zone as f64 * 6.0 - 183.0;
            let false_northing = if north { 0.0 } else { 10_000_000.0 };
            let hemisphere = if north { 'N' } else { 'S' };
            let wkt = format!(
                r#"PROJCS["WGS 84 / UTM zone {zone}{hemisphere}",{WGS84_GEOGCS},AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",{meridian}],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",{false_northing}],{METRE_AXES},AUTHORITY["EPSG","{epsg}"]]"#
            );
            let mut cf = vec![
                text("grid_mapping_name", "transverse_mercator"),
                number("latitude_of_projection_origin", 0.0),
                number("longitude_of_central_meridian", meridian),
                number("scale_factor_at_central_meridian", 0.9996),
                number("false_easting", 500_000.0),
                number("false_northing", false_northing),
            ];
            cf.extend(ellipsoid());
            Some((wkt, cf))
        }
        3857 => {
            let wkt = format!(
                r#"PROJCS["WGS 84 / Pseudo-Mercator",{WGS84_GEOGCS},AUTHORITY["EPSG","4326"]],PROJECTION["Mercator_1SP"],PARAMETER["central_meridian",0],PARAMETER["scale_factor",1],PARAMETER["false_easting",0],PARAMETER["false_northing",0],{METRE_AXES},EXTENSION["PROJ4","+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs"],AUTHORITY["EPSG","3857"]]"#
            );
            let cf = vec![
                text("grid_mapping_name", "mercator"),
                number("standard_parallel", 0.0),
                number("longitude_of_projection_origin", 0.0),
                number("false_easting", 0.0),
                number("false_northing", 0.0),
                number("semi_major_axis", 6_378_137.0),
                number("semi_minor_axis", 6_378_137.0),
            ];
            Some((wkt, cf))
        }
        _ => None,
    }
}

/// The attributes of `spatial_ref` for a raster in `crs`.
pub(super) fn attributes(crs: &Crs, georef: &Georef) -> Vec<Attribute> {
    let mut attrs = Vec::new();
    match known(crs.epsg) {
        Some((wkt, cf)) => {
            attrs.extend(cf);
            attrs.push(text("crs_wkt", wkt.clone()));
            attrs.push(text("spatial_ref", wkt));
        }
        None if crs.geographic => attrs.push(text("grid_mapping_name", "latitude_longitude")),
        None => {}
    }
    attrs.push(text("epsg_code", format!("EPSG:{}", crs.epsg)));
    // GDAL's corner-based affine transform, as its netCDF driver writes it.
    attrs.push(text(
        "GeoTransform",
        format!(
            "{} {} 0 {} 0 {}",
            georef.origin_x, georef.step_x, georef.origin_y, georef.step_y
        ),
    ));
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AttributeList;

    #[test]
    fn utm_zones_and_unknown_codes() {
        let (wkt, cf) = known(32733).unwrap();
        assert!(wkt.starts_with(r#"PROJCS["WGS 84 / UTM zone 33S""#));
        assert!(wkt.ends_with(r#"AUTHORITY["EPSG","32733"]]"#));
        assert_eq!(cf.attr_f64("longitude_of_central_meridian"), Some(15.0));
        assert_eq!(cf.attr_f64("false_northing"), Some(10_000_000.0));
        assert!(known(32661).is_none());
        assert!(known(2154).is_none());
        // Brackets balance in every WKT.
        for code in [4326, 32601, 3857] {
            let wkt = known(code).unwrap().0;
            assert_eq!(wkt.matches('[').count(), wkt.matches(']').count(), "{code}");
        }
    }
}
