//! WMS request parameters and GetMap's validation, in the order the service applies
//! them (`LAYERS`/`STYLES`, `FORMAT`, `CRS`/`SRS`, `BBOX`, `WIDTH`/`HEIGHT` against the
//! configured limits, `TRANSPARENT`, `BGCOLOR`, the ncWMS styling parameters), then the
//! CRS transforms on the corners of the requested box.
#![no_main]

use datagate::config::Config;
use datagate::wms::Version;
use datagate::wms::crs::Crs;
use datagate::wms::encode::ImageFormat;
use datagate::wms::params::{Params, parse_bbox, parse_color};
use datagate::wms::style::StyleRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let config = Config::default();
    let p = Params::parse(Some(query));
    let _ = p.canonical();
    let version = Version::negotiate(p.non_empty("VERSION").or_else(|| p.non_empty("WMTVER")));
    let names = p.list("LAYERS");
    let styles = p.list("STYLES");
    for (i, _) in names.iter().enumerate() {
        let style = styles.get(i).map_or("", String::as_str);
        if let Ok(s) = StyleRequest::from_params(&p, style, &config.wms.default_palette) {
            let scale = s.scale((0.0, 1.0));
            let _ = scale.color(0.5);
            let _ = scale.value_at(0.25);
        }
    }
    let _ = ImageFormat::parse(p.non_empty("FORMAT").unwrap_or("image/png"));
    let _ = p.flag("TRANSPARENT");
    if let Some(v) = p.non_empty("BGCOLOR") {
        let _ = parse_color(v);
    }
    let (Ok(width), Ok(height)) = (
        p.dimension("WIDTH", config.wms.max_width),
        p.dimension("HEIGHT", config.wms.max_height),
    ) else {
        return;
    };
    let _ = width as u64 * height as u64 * 4 > config.limits.max_response_bytes;
    let Some(crs_name) = p.non_empty("CRS").or_else(|| p.non_empty("SRS")) else {
        return;
    };
    let Ok(crs) = Crs::parse(crs_name) else {
        return;
    };
    let Ok(bbox) = p.required("BBOX").and_then(parse_bbox) else {
        return;
    };
    let [x0, y0, x1, y1] = crs.bbox_xy(version, bbox);
    for (x, y) in [(x0, y0), (x1, y1), ((x0 + x1) / 2.0, (y0 + y1) / 2.0)] {
        if let Some((lon, lat)) = crs.to_lonlat(x, y) {
            let _ = crs.from_lonlat(lon, lat);
        }
        let _ = crs.x_to_lon(x);
        let _ = crs.y_to_lat(y);
    }
});
