//! Metadata documents: landing page, conformance, collection descriptions (extent,
//! data_queries with link templates, parameter_names, output formats, CRS).

use serde_json::{Value, json};

use super::collection::{Collection, Group};
use super::covjson::CRS84;
use super::params::DISTANCE_UNITS;
use crate::model::cf::Calendar;
use crate::subset::BBox;

pub const QUERIES: &[&str] = &[
    "position",
    "area",
    "cube",
    "radius",
    "trajectory",
    "corridor",
    "items",
    "locations",
];

pub const OUTPUT_FORMATS: &[&str] = &["CoverageJSON", "GeoJSON", "CSV", "NetCDF"];

pub const OPENAPI_TYPE: &str = "application/vnd.oai.openapi+json;version=3.0";

/// The conformance classes implemented, in the EDR 1.0 and 1.1 URI forms.
pub fn conformance() -> Value {
    let mut classes = vec![
        "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core".to_string(),
        "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json".into(),
        "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html".into(),
        "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30".into(),
        "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections".into(),
    ];
    for v in ["1.0", "1.1"] {
        for c in [
            "core",
            "collections",
            "json",
            "geojson",
            "edr-geojson",
            "covjson",
            "html",
            "oas30",
            "queries",
        ]
        .iter()
        .chain(QUERIES)
        {
            classes.push(format!(
                "http://www.opengis.net/spec/ogcapi-edr-1/{v}/conf/{c}"
            ));
        }
    }
    json!({ "conformsTo": classes })
}

pub fn landing(base: &str) -> Value {
    json!({
        "title": "datagate OGC API - Environmental Data Retrieval",
        "description": "Archive datasets served as EDR collections: one collection per dataset.",
        "links": [
            {"href": format!("{base}/edr"), "rel": "self", "type": "application/json", "title": "This document"},
            {"href": format!("{base}/edr?f=html"), "rel": "alternate", "type": "text/html", "title": "This document as HTML"},
            {"href": format!("{base}/edr/api"), "rel": "service-desc", "type": OPENAPI_TYPE, "title": "The API definition (OpenAPI 3.0)"},
            {"href": format!("{base}/edr/api?f=html"), "rel": "service-doc", "type": "text/html", "title": "The API documentation"},
            {"href": format!("{base}/edr/conformance"), "rel": "conformance", "type": "application/json", "title": "Conformance classes"},
            {"href": format!("{base}/edr/collections"), "rel": "data", "type": "application/json", "title": "Collections"},
        ],
    })
}

/// `{base}/edr/collections/{id}` with the id's segments percent-encoded.
pub fn collection_url(base: &str, id: &str) -> String {
    let enc: Vec<String> = id
        .split('/')
        .map(|s| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string())
        .collect();
    format!("{base}/edr/collections/{}", enc.join("/"))
}

const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub(super) fn trs(cal: Calendar) -> String {
    let name = match cal {
        Calendar::Standard | Calendar::ProlepticGregorian => "Gregorian Calendar".to_string(),
        other => format!("CF {other:?} calendar"),
    };
    format!(
        "TIMECRS[\"DateTime\",TDATUM[\"{name}\"],CS[TemporalDateTime,1],AXIS[\"Time (T)\",future]]"
    )
}

fn extent(col: &Collection) -> Value {
    let bbox = col
        .groups
        .iter()
        .map(Group::crs84_bbox)
        .reduce(|a, b| a.union(&b))
        .unwrap_or_else(BBox::world)
        .to_array();
    let mut ext = json!({"spatial": {"bbox": [bbox], "crs": CRS84}});
    let mut times: Vec<&String> = col
        .groups
        .iter()
        .filter_map(|g| g.t.as_ref())
        .flat_map(|t| t.iso.iter())
        .filter(|s| !s.is_empty())
        .collect();
    times.sort();
    times.dedup();
    if let (Some(first), Some(last)) = (times.first(), times.last()) {
        let cal = col
            .groups
            .iter()
            .find_map(|g| g.t.as_ref())
            .map_or(Calendar::Standard, |t| t.units.calendar);
        let values: Vec<String> = if times.len() <= 1000 {
            times.iter().map(|s| s.to_string()).collect()
        } else {
            vec![format!("{first}/{last}")]
        };
        ext["temporal"] = json!({
            "interval": [[first, last]],
            "values": values,
            "trs": trs(cal),
        });
    }
    if let Some(z) = col.groups.iter().find_map(|g| g.z.as_ref()) {
        let vals: Vec<String> = z.axis.values().iter().map(|v| v.to_string()).collect();
        let (lo, hi) = z.axis.bounds().unwrap_or((0.0, 0.0));
        ext["vertical"] = json!({
            "interval": [[lo.to_string(), hi.to_string()]],
            "values": vals,
            "vrs": format!(
                "VERTCRS[\"{}\",VDATUM[\"{}\"],CS[vertical,1],AXIS[\"{} ({})\",{}],LENGTHUNIT[\"{}\",1]]",
                z.name,
                z.name,
                z.name,
                if z.positive_down { "D" } else { "H" },
                if z.positive_down { "down" } else { "up" },
                if z.units.is_empty() { "unknown" } else { &z.units }
            ),
        });
    }
    if let Some(custom) = super::custom::extent(col) {
        ext["custom"] = custom;
    }
    ext
}

fn z_units(col: &Collection) -> Vec<String> {
    let u = col
        .groups
        .iter()
        .find_map(|g| g.z.as_ref())
        .map(|z| z.units.clone())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "m".into());
    vec![u]
}

fn query(col: &Collection, base: &str, q: &str) -> Value {
    let url = collection_url(base, &col.id);
    let (href, title) = match q {
        "position" => (
            format!("{url}/position?coords={{coords}}"),
            "Position query",
        ),
        "area" => (format!("{url}/area?coords={{coords}}"), "Area query"),
        "cube" => (format!("{url}/cube?bbox={{bbox}}"), "Cube query"),
        "radius" => (
            format!(
                "{url}/radius?coords={{coords}}&within={{within}}&within-units={{within-units}}"
            ),
            "Radius query",
        ),
        "trajectory" => (
            format!("{url}/trajectory?coords={{coords}}"),
            "Trajectory query",
        ),
        "corridor" => (
            format!(
                "{url}/corridor?coords={{coords}}&corridor-width={{corridor-width}}&width-units={{width-units}}"
            ),
            "Corridor query",
        ),
        "items" => (
            format!("{url}/items"),
            "Items (the named locations as features)",
        ),
        _ => (format!("{url}/locations"), "Named locations"),
    };
    let mut vars = json!({
        "title": title,
        "query_type": q,
        "output_formats": OUTPUT_FORMATS,
        "default_output_format": "CoverageJSON",
    });
    match q {
        "cube" => vars["height_units"] = json!(z_units(col)),
        "radius" => vars["within_units"] = json!(DISTANCE_UNITS),
        "corridor" => {
            vars["height_units"] = json!(z_units(col));
            vars["within_units"] = json!(DISTANCE_UNITS);
            vars["width_units"] = json!(DISTANCE_UNITS);
        }
        "items" => {
            vars["output_formats"] = json!(["GeoJSON"]);
            vars["default_output_format"] = json!("GeoJSON");
        }
        _ => {}
    }
    if matches!(q, "position" | "area" | "trajectory") {
        vars["coords"] = json!("Well Known Text geometry in CRS84 (longitude latitude)");
    }
    let mut link = json!({
        "href": href,
        "rel": "data",
        "title": title,
        "variables": vars,
    });
    if q != "items" && q != "locations" {
        link["templated"] = json!(true);
    } else {
        link["type"] = json!("application/geo+json");
    }
    json!({ "link": link })
}

/// The description of one collection.
pub fn collection(col: &Collection, base: &str) -> Value {
    let url = collection_url(base, &col.id);
    let mut links = vec![
        json!({"href": url, "rel": "self", "type": "application/json", "title": "This collection"}),
        json!({"href": format!("{url}?f=html"), "rel": "alternate", "type": "text/html", "title": "This collection as HTML"}),
        json!({"href": format!("{base}/edr/collections"), "rel": "collection", "type": "application/json", "title": "All collections"}),
    ];
    for q in QUERIES {
        links.push(json!({
            "href": format!("{url}/{q}"),
            "rel": "data",
            "title": format!("{q} query"),
        }));
    }
    let mut queries = serde_json::Map::new();
    for q in QUERIES {
        queries.insert(q.to_string(), query(col, base, q));
    }
    let mut params = serde_json::Map::new();
    for p in &col.params {
        let mut obs = json!({"label": p.label()});
        if let Some(sn) = p.text("standard_name").filter(|s| !s.trim().is_empty()) {
            obs["id"] = json!(format!(
                "http://vocab.nerc.ac.uk/standard_name/{}/",
                sn.trim()
            ));
            obs["label"] = json!(sn.trim());
        }
        let mut v = json!({
            "type": "Parameter",
            "id": p.name,
            "label": p.label(),
            "data-type": if p.integer { "integer" } else { "float" },
            "observedProperty": obs,
        });
        if let Some(d) = p.text("long_name").filter(|s| !s.trim().is_empty()) {
            v["description"] = json!(d);
        }
        if let Some(u) = p.units() {
            v["unit"] = json!({
                "label": u,
                "symbol": {"value": u, "type": "http://www.opengis.net/def/uom/UCUM/"},
            });
        }
        params.insert(p.name.clone(), v);
    }
    let mut doc = json!({
        "id": col.id,
        "title": col.title,
        "links": links,
        "extent": extent(col),
        "data_queries": queries,
        "crs": [CRS84],
        "output_formats": OUTPUT_FORMATS,
        "parameter_names": params,
        "distanceunits": DISTANCE_UNITS,
    });
    if let Some(d) = col.description.as_ref().filter(|d| !d.trim().is_empty()) {
        doc["description"] = json!(d);
    }
    doc
}

pub fn collections(cols: &[std::sync::Arc<Collection>], base: &str) -> Value {
    json!({
        "links": [
            {"href": format!("{base}/edr/collections"), "rel": "self", "type": "application/json", "title": "This document"},
            {"href": format!("{base}/edr/collections?f=html"), "rel": "alternate", "type": "text/html", "title": "This document as HTML"},
            {"href": format!("{base}/edr"), "rel": "root", "type": "application/json", "title": "Landing page"},
        ],
        "collections": cols.iter().map(|c| collection(c, base)).collect::<Vec<_>>(),
    })
}
