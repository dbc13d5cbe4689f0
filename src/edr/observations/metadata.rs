//! The metadata of an observation collection: its description (extent from the
//! feature index, the queries that make sense for features, the observed parameters)
//! and its features as GeoJSON (`locations`, `items`).

use serde_json::{Map, Value, json};

use super::super::covjson::CRS84;
use super::super::metadata::{collection_url, trs};
use super::super::params::DISTANCE_UNITS;
use super::collection::{ObsCollection, QUERIES};
use crate::features::Feature;

const OUTPUT_FORMATS: &[&str] = &["CoverageJSON", "GeoJSON", "CSV", "NetCDF"];

fn extent(col: &ObsCollection) -> Value {
    let bbox = col
        .index
        .bbox()
        .filter(|b| b.0.is_finite() && b.1.is_finite())
        .map_or(json!([-180.0, -90.0, 180.0, 90.0]), |b| {
            json!([b.0, b.1, b.2, b.3])
        });
    let mut ext = json!({"spatial": {"bbox": [bbox], "crs": CRS84}});
    if let (Some((t0, t1)), Some(units)) = (col.index.time_span(), &col.index.time_units)
        && let (Some(a), Some(b)) = (col.index.iso(t0), col.index.iso(t1))
    {
        ext["temporal"] = json!({
            "interval": [[a, b]],
            "values": [format!("{a}/{b}")],
            "trs": trs(units.calendar),
        });
    }
    let levels = &col.index.levels;
    if let (Some(&lo), Some(&hi), Some(z)) = (levels.first(), levels.last(), &col.index.schema.z) {
        let values: Vec<String> = if levels.len() <= 1000 {
            levels.iter().map(|v| v.to_string()).collect()
        } else {
            vec![format!("{lo}/{hi}")]
        };
        let units = z
            .attr("units")
            .and_then(|a| a.as_text())
            .unwrap_or_default();
        ext["vertical"] = json!({
            "interval": [[lo.to_string(), hi.to_string()]],
            "values": values,
            "vrs": format!("VERTCRS[\"{0}\",VDATUM[\"{0}\"],CS[vertical,1],AXIS[\"{0}\",up],LENGTHUNIT[\"{1}\",1]]", z.name, if units.is_empty() { "unknown" } else { &units }),
        });
    }
    ext
}

fn query(url: &str, q: &str) -> Value {
    let href = match q {
        "position" => format!("{url}/position?coords={{coords}}"),
        "radius" => format!(
            "{url}/radius?coords={{coords}}&within={{within}}&within-units={{within-units}}"
        ),
        "area" => format!("{url}/area?coords={{coords}}"),
        "cube" => format!("{url}/cube?bbox={{bbox}}"),
        "corridor" => format!(
            "{url}/corridor?coords={{coords}}&corridor-width={{corridor-width}}&width-units={{width-units}}"
        ),
        other => format!("{url}/{other}"),
    };
    let mut vars = json!({
        "title": format!("{q} query"),
        "query_type": q,
        "output_formats": OUTPUT_FORMATS,
        "default_output_format": "CoverageJSON",
    });
    if q == "radius" {
        vars["within_units"] = json!(DISTANCE_UNITS);
    }
    if q == "corridor" {
        vars["width_units"] = json!(DISTANCE_UNITS);
    }
    if q == "items" {
        vars["output_formats"] = json!(["GeoJSON"]);
        vars["default_output_format"] = json!("GeoJSON");
    }
    let mut link =
        json!({"href": href, "rel": "data", "title": format!("{q} query"), "variables": vars});
    if q == "items" || q == "locations" {
        link["type"] = json!("application/geo+json");
    } else {
        link["templated"] = json!(true);
    }
    json!({ "link": link })
}

/// The description of an observation collection.
pub fn collection(col: &ObsCollection, base: &str) -> Value {
    let url = collection_url(base, &col.id);
    let mut links = vec![
        json!({"href": url, "rel": "self", "type": "application/json", "title": "This collection"}),
        json!({"href": format!("{base}/edr/collections"), "rel": "collection", "type": "application/json", "title": "All collections"}),
    ];
    let mut queries = Map::new();
    for q in QUERIES {
        links.push(
            json!({"href": format!("{url}/{q}"), "rel": "data", "title": format!("{q} query")}),
        );
        queries.insert(q.to_string(), query(&url, q));
    }
    let mut params = Map::new();
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
        if let Some(u) = p.units() {
            v["unit"] = json!({"label": u, "symbol": {"value": u, "type": "http://www.opengis.net/def/uom/UCUM/"}});
        }
        params.insert(p.name.clone(), v);
    }
    json!({
        "id": col.id,
        "title": col.title,
        "description": format!(
            "{} {} features (CF discrete sampling geometry), {} observations",
            col.index.features.len(),
            col.index.schema.feature_type.name(),
            col.index.observations()
        ),
        "links": links,
        "extent": extent(col),
        "data_queries": queries,
        "crs": [CRS84],
        "output_formats": OUTPUT_FORMATS,
        "parameter_names": params,
        "distanceunits": DISTANCE_UNITS,
    })
}

/// Vertices of a track's line at most (longer tracks are thinned evenly).
const MAX_TRACK_VERTICES: usize = 10_000;

/// A feature's geometry: its place, or its track as a line.
fn geometry(f: &Feature) -> Value {
    match f.track(MAX_TRACK_VERTICES).as_slice() {
        [] => Value::Null,
        [p] => json!({"type": "Point", "coordinates": p}),
        pts => json!({"type": "LineString", "coordinates": pts}),
    }
}

/// One feature as GeoJSON.
fn feature_json(col: &ObsCollection, url: &str, f: &Feature) -> Value {
    let names: Vec<&str> = col.params.iter().map(|p| p.name.as_str()).collect();
    let mut props = json!({
        "name": f.id,
        "featureType": col.index.schema.feature_type.name(),
        "observations": f.len(),
        "parameter-name": names,
        "edrqueryendpoint": format!("{url}/locations/{}", f.id),
    });
    if let Some((a, b)) = f.time_span
        && let (Some(a), Some(b)) = (col.index.iso(a), col.index.iso(b))
    {
        props["datetime"] = json!(format!("{a}/{b}"));
        props["start"] = json!(a);
        props["end"] = json!(b);
    }
    json!({"type": "Feature", "id": f.id, "geometry": geometry(f), "properties": props})
}

/// The feature `id` as a GeoJSON Feature (`items/{id}`).
pub fn item(col: &ObsCollection, base: &str, id: &str) -> Option<Value> {
    let url = collection_url(base, &col.id);
    let f = col.index.feature(id)?;
    let mut doc = feature_json(col, &url, f);
    doc["links"] = json!([
        {"href": format!("{url}/items/{id}"), "rel": "self", "type": "application/geo+json"},
        {"href": format!("{url}/items"), "rel": "collection", "type": "application/geo+json"},
    ]);
    Some(doc)
}

/// Features as GeoJSON, those crossing `bbox` (west, south, east, north), at most
/// `limit`.
pub fn locations(
    col: &ObsCollection,
    base: &str,
    bbox: Option<(f64, f64, f64, f64)>,
    limit: usize,
) -> Value {
    let url = collection_url(base, &col.id);
    let crosses = |f: &Feature| match bbox {
        None => true,
        Some((w, s, e, n)) => f.bbox.0 <= e && f.bbox.2 >= w && f.bbox.1 <= n && f.bbox.3 >= s,
    };
    let features: Vec<Value> = col
        .index
        .features
        .iter()
        .filter(|f| crosses(f))
        .take(limit)
        .map(|f| feature_json(col, &url, f))
        .collect();
    json!({
        "type": "FeatureCollection",
        "features": features,
        "numberReturned": features.len(),
        "links": [{"href": format!("{url}/locations"), "rel": "self", "type": "application/geo+json"}],
    })
}
