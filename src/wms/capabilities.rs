//! GetCapabilities documents for WMS 1.1.1 (DTD) and 1.3.0 (XML Schema), with the
//! children of each Layer in the order the schema requires.

use std::fmt::Write;

use crate::model::format_float;
use crate::subset::BBox;

use super::Version;
use super::crs::{ADVERTISED, Crs};
use super::error::xml_escape as esc;
use super::layers::{DatasetLayers, Layer, TimeAxis};
use super::legend;
use super::obs_layers::ObsLayer;
use super::style::{PALETTES, style_name};
use super::time_extent::compact_time_extent;

/// What the document describes.
pub struct CapabilitiesInput<'a> {
    pub version: Version,
    /// The service URL ending in `?` (`http://host/wms?` or `http://host/wms/{id}?`).
    pub service_url: &'a str,
    pub title: &'a str,
    pub datasets: &'a [std::sync::Arc<DatasetLayers>],
    /// Layer names without the dataset id (the per-dataset service).
    pub short_names: bool,
    pub max_width: u32,
    pub max_height: u32,
    pub default_palette: &'a str,
}

pub fn document(inp: &CapabilitiesInput<'_>) -> String {
    let v = inp.version;
    let url = esc(inp.service_url);
    let mut x = String::with_capacity(16 * 1024);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    match v {
        Version::V130 => x.push_str(
            "<WMS_Capabilities version=\"1.3.0\" xmlns=\"http://www.opengis.net/wms\" \
             xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xsi:schemaLocation=\"http://www.opengis.net/wms http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd\">\n",
        ),
        Version::V111 => x.push_str(
            "<!DOCTYPE WMT_MS_Capabilities SYSTEM \"http://schemas.opengis.net/wms/1.1.1/WMS_MS_Capabilities.dtd\">\n\
             <WMT_MS_Capabilities version=\"1.1.1\">\n",
        ),
    }
    // Service
    let _ = write!(
        x,
        "<Service>\n<Name>{}</Name>\n<Title>{}</Title>\n\
         <Abstract>Maps of the gridded variables of datagate's datasets, and of their observations (CF discrete sampling geometries) as points and tracks.</Abstract>\n\
         <OnlineResource xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:type=\"simple\" xlink:href=\"{url}\"/>\n\
         <Fees>none</Fees>\n<AccessConstraints>none</AccessConstraints>\n",
        if v == Version::V130 { "WMS" } else { "OGC:WMS" },
        esc(inp.title),
    );
    if v == Version::V130 {
        let _ = write!(
            x,
            "<MaxWidth>{}</MaxWidth>\n<MaxHeight>{}</MaxHeight>\n",
            inp.max_width, inp.max_height
        );
    }
    x.push_str("</Service>\n<Capability>\n<Request>\n");
    let caps_format = match v {
        Version::V130 => "text/xml",
        Version::V111 => "application/vnd.ogc.wms_xml",
    };
    let op = |x: &mut String, name: &str, formats: &[&str]| {
        let _ = writeln!(x, "<{name}>");
        for f in formats {
            let _ = writeln!(x, "<Format>{f}</Format>");
        }
        let _ = write!(
            x,
            "<DCPType><HTTP><Get><OnlineResource xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
             xlink:type=\"simple\" xlink:href=\"{url}\"/></Get></HTTP></DCPType>\n</{name}>\n"
        );
    };
    op(&mut x, "GetCapabilities", &[caps_format]);
    op(&mut x, "GetMap", &["image/png", "image/jpeg"]);
    op(
        &mut x,
        "GetFeatureInfo",
        &["text/plain", "application/json", "text/xml", "text/html"],
    );
    if v == Version::V111 {
        // 1.1.1's DTD has GetLegendGraphic (an SLD extension in 1.3.0's schema).
        op(&mut x, "GetLegendGraphic", &["image/png"]);
    }
    x.push_str("</Request>\n<Exception>\n");
    let exception_formats: &[&str] = match v {
        Version::V130 => &["XML", "INIMAGE", "BLANK"],
        Version::V111 => &[
            "application/vnd.ogc.se_xml",
            "application/vnd.ogc.se_inimage",
            "application/vnd.ogc.se_blank",
        ],
    };
    for f in exception_formats {
        let _ = writeln!(x, "<Format>{f}</Format>");
    }
    x.push_str("</Exception>\n");

    // The root layer: title, CRSs (inherited by every layer), extent.
    x.push_str("<Layer>\n");
    let _ = writeln!(x, "<Title>{}</Title>", esc(inp.title));
    crs_list(&mut x, v);
    let all_bbox = inp
        .datasets
        .iter()
        .filter_map(|d| d.bbox())
        .reduce(|a, b| a.union(&b))
        .unwrap_or_else(BBox::world)
        .to_array();
    geo_bbox(&mut x, v, all_bbox);
    bounding_boxes(&mut x, v, all_bbox);
    for ds in inp.datasets.iter().filter(|d| !d.is_empty()) {
        x.push_str("<Layer>\n");
        let _ = writeln!(x, "<Title>{}</Title>", esc(&ds.title));
        let _ = writeln!(x, "<Abstract>Dataset {}</Abstract>", esc(&ds.id));
        let b = ds.bbox().unwrap_or_else(BBox::world).to_array();
        geo_bbox(&mut x, v, b);
        bounding_boxes(&mut x, v, b);
        for layer in &ds.layers {
            layer_element(&mut x, inp, &LayerEntry::grid(layer, inp.short_names));
        }
        for layer in &ds.observations {
            layer_element(
                &mut x,
                inp,
                &LayerEntry::observations(layer, inp.short_names),
            );
        }
        x.push_str("</Layer>\n");
    }
    x.push_str("</Layer>\n</Capability>\n");
    x.push_str(match v {
        Version::V130 => "</WMS_Capabilities>\n",
        Version::V111 => "</WMT_MS_Capabilities>\n",
    });
    x
}

/// Characters escaped in URL parts we build (ids and layer names keep their `/`).
const URL_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// A layer name or dataset id made safe inside a URL.
pub fn url_part(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, URL_ESCAPES).to_string()
}

fn crs_list(x: &mut String, v: Version) {
    let tag = if v == Version::V130 { "CRS" } else { "SRS" };
    for c in ADVERTISED {
        let _ = writeln!(x, "<{tag}>{c}</{tag}>");
    }
}

fn num(v: f64) -> String {
    format_float((v * 1e9).round() / 1e9, false)
}

fn geo_bbox(x: &mut String, v: Version, b: [f64; 4]) {
    match v {
        Version::V130 => {
            let _ = write!(
                x,
                "<EX_GeographicBoundingBox>\n<westBoundLongitude>{}</westBoundLongitude>\n\
                 <eastBoundLongitude>{}</eastBoundLongitude>\n<southBoundLatitude>{}</southBoundLatitude>\n\
                 <northBoundLatitude>{}</northBoundLatitude>\n</EX_GeographicBoundingBox>\n",
                num(b[0]),
                num(b[2]),
                num(b[1]),
                num(b[3])
            );
        }
        Version::V111 => {
            let _ = writeln!(
                x,
                "<LatLonBoundingBox minx=\"{}\" miny=\"{}\" maxx=\"{}\" maxy=\"{}\"/>",
                num(b[0]),
                num(b[1]),
                num(b[2]),
                num(b[3])
            );
        }
    }
}

/// BoundingBox elements in CRS:84/EPSG:4326 (lat,lon in 1.3.0) and Web Mercator.
fn bounding_boxes(x: &mut String, v: Version, b: [f64; 4]) {
    let attr = if v == Version::V130 { "CRS" } else { "SRS" };
    let mut one = |crs: &str, bb: [f64; 4]| {
        let _ = writeln!(
            x,
            "<BoundingBox {attr}=\"{crs}\" minx=\"{}\" miny=\"{}\" maxx=\"{}\" maxy=\"{}\"/>",
            num(bb[0]),
            num(bb[1]),
            num(bb[2]),
            num(bb[3])
        );
    };
    if v == Version::V130 {
        one("CRS:84", b);
        one("EPSG:4326", [b[1], b[0], b[3], b[2]]);
    } else {
        one("EPSG:4326", b);
    }
    let merc = Crs::parse("EPSG:3857").expect("known CRS");
    if let (Some(lo), Some(hi)) = (merc.from_lonlat(b[0], b[1]), merc.from_lonlat(b[2], b[3])) {
        one("EPSG:3857", [lo.0, lo.1, hi.0, hi.1]);
    }
}

/// What the capabilities say of one layer, gridded or observations.
struct LayerEntry<'a> {
    name: String,
    title: &'a str,
    abstract_text: Option<&'a str>,
    units: Option<&'a str>,
    bbox: [f64; 4],
    /// (extent, default, several values may be asked for at once).
    time: Option<(String, Option<String>, bool)>,
    /// (extent, default, units).
    elevation: Option<(String, String, String)>,
}

impl<'a> LayerEntry<'a> {
    fn grid(layer: &'a Layer, short_names: bool) -> LayerEntry<'a> {
        LayerEntry {
            name: if short_names {
                layer.var_name.clone()
            } else {
                layer.full_name()
            },
            title: &layer.title,
            abstract_text: layer.abstract_text.as_deref(),
            units: layer.units.as_deref(),
            bbox: layer.bbox.to_array(),
            time: layer
                .time
                .as_ref()
                .map(|t| (time_extent(t), t.dates.last().map(|d| d.to_iso()), false)),
            elevation: layer.elevation.as_ref().map(|e| {
                let list: Vec<String> = e.values.iter().map(|v| num(*v)).collect();
                (
                    list.join(","),
                    list.first().cloned().unwrap_or_default(),
                    e.units.clone(),
                )
            }),
        }
    }

    /// An observation layer: TIME takes a range (the default is the whole span).
    fn observations(layer: &'a ObsLayer, short_names: bool) -> LayerEntry<'a> {
        LayerEntry {
            name: if short_names {
                layer.var_name.clone()
            } else {
                layer.full_name()
            },
            title: &layer.title,
            abstract_text: layer.abstract_text.as_deref(),
            units: layer.units.as_deref(),
            bbox: layer.bbox.to_array(),
            time: layer
                .time
                .as_ref()
                .map(|t| (t.extent.clone(), Some(t.default.clone()), true)),
            elevation: layer
                .elevation
                .as_ref()
                .map(|e| (e.extent.clone(), num(e.default), e.units.clone())),
        }
    }
}

fn layer_element(x: &mut String, inp: &CapabilitiesInput<'_>, layer: &LayerEntry<'_>) {
    let v = inp.version;
    let name = &layer.name;
    x.push_str("<Layer queryable=\"1\">\n");
    let _ = writeln!(x, "<Name>{}</Name>", esc(name));
    let _ = writeln!(x, "<Title>{}</Title>", esc(layer.title));
    let mut abs = layer.abstract_text.unwrap_or_default().to_string();
    if let Some(u) = layer.units {
        if !abs.is_empty() {
            abs.push_str(". ");
        }
        abs.push_str(&format!("Units: {u}"));
    }
    if !abs.is_empty() {
        let _ = writeln!(x, "<Abstract>{}</Abstract>", esc(&abs));
    }
    geo_bbox(x, v, layer.bbox);
    bounding_boxes(x, v, layer.bbox);
    // Dimensions: 1.3.0 puts the extent in Dimension; 1.1.1 declares Dimension and
    // gives the values in Extent, after all Dimensions.
    let time = &layer.time;
    let elev = &layer.elevation;
    match v {
        Version::V130 => {
            if let Some((extent, default, multiple)) = time {
                let _ = writeln!(
                    x,
                    "<Dimension name=\"time\" units=\"ISO8601\" default=\"{}\" multipleValues=\"{}\" nearestValue=\"1\" current=\"0\">{}</Dimension>",
                    esc(default.as_deref().unwrap_or("")),
                    u8::from(*multiple),
                    esc(extent)
                );
            }
            if let Some((extent, default, units)) = elev {
                let _ = writeln!(
                    x,
                    "<Dimension name=\"elevation\" units=\"{}\" unitSymbol=\"{}\" default=\"{}\" multipleValues=\"0\" nearestValue=\"1\">{}</Dimension>",
                    esc(units),
                    esc(units),
                    esc(default),
                    esc(extent)
                );
            }
        }
        Version::V111 => {
            if time.is_some() {
                x.push_str("<Dimension name=\"time\" units=\"ISO8601\"/>\n");
            }
            if let Some((_, _, units)) = elev {
                let _ = writeln!(
                    x,
                    "<Dimension name=\"elevation\" units=\"{}\"/>",
                    esc(units)
                );
            }
            if let Some((extent, default, multiple)) = time {
                let _ = writeln!(
                    x,
                    "<Extent name=\"time\" default=\"{}\" multipleValues=\"{}\" nearestValue=\"1\">{}</Extent>",
                    esc(default.as_deref().unwrap_or("")),
                    u8::from(*multiple),
                    esc(extent)
                );
            }
            if let Some((extent, default, _)) = elev {
                let _ = writeln!(
                    x,
                    "<Extent name=\"elevation\" default=\"{}\" nearestValue=\"1\">{}</Extent>",
                    esc(default),
                    esc(extent)
                );
            }
        }
    }
    // One style per palette, the configured default first.
    let mut palettes: Vec<&str> = PALETTES.iter().map(|(n, _)| *n).collect();
    if let Some(i) = palettes.iter().position(|p| *p == inp.default_palette) {
        let d = palettes.remove(i);
        palettes.insert(0, d);
    }
    for p in palettes {
        let style = style_name(p);
        let legend = format!(
            "{}REQUEST=GetLegendGraphic&LAYER={}&STYLE={}&FORMAT=image/png",
            inp.service_url,
            url_part(name),
            style
        );
        let _ = write!(
            x,
            "<Style>\n<Name>{}</Name>\n<Title>{} palette</Title>\n\
             <LegendURL width=\"{}\" height=\"{}\">\n<Format>image/png</Format>\n\
             <OnlineResource xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:type=\"simple\" xlink:href=\"{}\"/>\n\
             </LegendURL>\n</Style>\n",
            esc(&style),
            esc(p),
            legend::DEFAULT_WIDTH,
            legend::DEFAULT_HEIGHT,
            esc(&legend)
        );
    }
    x.push_str("</Layer>\n");
}

/// The time extent of a gridded layer's axis.
fn time_extent(t: &TimeAxis) -> String {
    compact_time_extent(&t.dates, &t.values, t.units.unit_seconds)
}
