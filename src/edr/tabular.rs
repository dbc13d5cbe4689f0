//! Row-per-position outputs: CSV, GeoJSON (one Point feature per position), and an
//! HTML table for browsers. One row holds every parameter of a coverage at one
//! (time, level, cell); cells outside the query shape have no row.

use std::sync::Arc;

use serde_json::json;

use super::body::{Out, push_number};
use super::collection::Collection;
use super::coverage::{Coord, Coverage};
use super::error::EdrResult;
use crate::http::html_escape;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Csv,
    GeoJson,
    Html,
}

struct Columns {
    t: bool,
    z: bool,
    /// Custom dimensions' ids (a forecast's `step`), in order of appearance.
    custom: Vec<String>,
    params: Vec<usize>,
}

fn columns(covs: &[Coverage]) -> Columns {
    let has = |c: &str| {
        covs.iter()
            .any(|cov| cov.axes.iter().any(|a| a.components.contains(&c)))
    };
    let mut params: Vec<usize> = Vec::new();
    for cov in covs {
        for &p in &cov.params {
            if !params.contains(&p) {
                params.push(p);
            }
        }
    }
    let mut custom: Vec<String> = Vec::new();
    for f in covs.iter().flat_map(|c| &c.fixed) {
        if !custom.contains(&f.id) {
            custom.push(f.id.clone());
        }
    }
    Columns {
        t: has("t"),
        z: has("z"),
        custom,
        params,
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Coordinates of one output position: (t, z, x, y).
fn position_coords(cov: &Coverage, idx: &[usize]) -> (Option<String>, Option<f64>, f64, f64) {
    let (mut t, mut z, mut x, mut y) = (None, None, f64::NAN, f64::NAN);
    for (k, ax) in cov.axes.iter().enumerate() {
        for (name, c) in ax.components.iter().zip(ax.coord(idx[k])) {
            match (*name, c) {
                ("t", Coord::Time(s)) => t = Some(s.clone()),
                ("z", Coord::Num(v)) => z = Some(*v),
                ("x", Coord::Num(v)) => x = *v,
                ("y", Coord::Num(v)) => y = *v,
                _ => {}
            }
        }
    }
    (t, z, x, y)
}

fn num_text(v: f64, single: bool, integer: bool) -> String {
    let mut b = Vec::new();
    push_number(&mut b, v, single, integer);
    String::from_utf8(b).unwrap_or_default()
}

pub async fn write(
    kind: Kind,
    col: Arc<Collection>,
    covs: Vec<Coverage>,
    block_bytes: usize,
    mut out: Out,
) -> EdrResult<Out> {
    let cols = columns(&covs);
    let names: Vec<&str> = cols
        .params
        .iter()
        .map(|&p| col.params[p].name.as_str())
        .collect();
    // The HTML page's layout after the table.
    let mut page_end = String::new();
    match kind {
        Kind::Csv => {
            let mut head: Vec<String> = Vec::new();
            if cols.t {
                head.push("datetime".into());
            }
            if cols.z {
                head.push("z".into());
            }
            head.extend(cols.custom.iter().map(|id| csv_field(id)));
            head.push("longitude".into());
            head.push("latitude".into());
            head.extend(names.iter().map(|n| csv_field(n)));
            out.push(&head.join(","));
            out.push("\r\n");
        }
        Kind::GeoJson => out.push("{\"type\":\"FeatureCollection\",\"features\":["),
        Kind::Html => {
            let (before, after) = crate::site_page::document_around(&col.title, "");
            page_end = after;
            out.push(&before);
            out.push(&format!(
                "<h1>{}</h1><table border=\"1\"><tr>",
                html_escape(&col.title)
            ));
            let mut head: Vec<&str> = Vec::new();
            if cols.t {
                head.push("datetime");
            }
            if cols.z {
                head.push("z");
            }
            head.extend(cols.custom.iter().map(String::as_str));
            head.extend(["longitude", "latitude"]);
            head.extend(names.iter().copied());
            for h in head {
                out.push(&format!("<th>{}</th>", html_escape(h)));
            }
            out.push("</tr>");
        }
    }
    let mut first_feature = true;
    for cov in &covs {
        let shape = cov.shape();
        for chunk in cov.chunks(8 * cov.params.len() as u64, block_bytes) {
            let mut values: Vec<Option<Vec<f64>>> = vec![None; cols.params.len()];
            for (c, &p) in cols.params.iter().enumerate() {
                if cov.params.contains(&p) {
                    values[c] = Some(cov.read_chunk(&col.ds, &col.params[p], chunk).await?);
                }
            }
            let mut local = shape.clone();
            if let Some(f) = local.first_mut() {
                *f = chunk.1 - chunk.0;
            }
            let total: usize = local.iter().product();
            let mut idx = vec![0usize; local.len()];
            for n in 0..total {
                let mut out_idx = idx.clone();
                if let Some(f) = out_idx.first_mut() {
                    *f += chunk.0;
                }
                if cov.kept(&out_idx) {
                    let (t, z, x, y) = position_coords(cov, &out_idx);
                    let cell = |c: usize| -> Option<(f64, &super::collection::Param)> {
                        values[c]
                            .as_ref()
                            .map(|v| (v[n], &col.params[cols.params[c]]))
                    };
                    match kind {
                        Kind::Csv | Kind::Html => {
                            let mut row: Vec<String> = Vec::new();
                            if cols.t {
                                row.push(t.clone().unwrap_or_default());
                            }
                            if cols.z {
                                row.push(z.map(|v| v.to_string()).unwrap_or_default());
                            }
                            for id in &cols.custom {
                                row.push(
                                    cov.fixed
                                        .iter()
                                        .find(|f| &f.id == id)
                                        .map(|f| f.value.to_string())
                                        .unwrap_or_default(),
                                );
                            }
                            row.push(x.to_string());
                            row.push(y.to_string());
                            for c in 0..cols.params.len() {
                                row.push(match cell(c) {
                                    Some((v, p)) if v.is_finite() => {
                                        num_text(v, p.single, p.integer)
                                    }
                                    _ => String::new(),
                                });
                            }
                            if kind == Kind::Csv {
                                out.push(&row.join(","));
                                out.push("\r\n");
                            } else {
                                out.push("<tr>");
                                for r in row {
                                    out.push(&format!("<td>{}</td>", html_escape(&r)));
                                }
                                out.push("</tr>");
                            }
                        }
                        Kind::GeoJson => {
                            let mut props = serde_json::Map::new();
                            if let Some(t) = &t {
                                props.insert("datetime".into(), json!(t));
                            }
                            if let Some(z) = z {
                                props.insert("z".into(), json!(z));
                            }
                            for f in &cov.fixed {
                                props.insert(f.id.clone(), json!(f.value));
                            }
                            for c in 0..cols.params.len() {
                                if let Some((v, p)) = cell(c) {
                                    let text = num_text(v, p.single, p.integer);
                                    let value: serde_json::Value =
                                        serde_json::from_str(&text).unwrap_or_default();
                                    props.insert(p.name.clone(), value);
                                }
                            }
                            if !first_feature {
                                out.push(",");
                            }
                            first_feature = false;
                            let f = json!({
                                "type": "Feature",
                                "geometry": {"type": "Point", "coordinates": [x, y]},
                                "properties": props,
                            });
                            out.push(&f.to_string());
                        }
                    }
                }
                for k in (0..local.len()).rev() {
                    idx[k] += 1;
                    if idx[k] < local[k] {
                        break;
                    }
                    idx[k] = 0;
                }
                if n % 1024 == 0 {
                    out.maybe_flush().await?;
                }
            }
            out.maybe_flush().await?;
        }
    }
    match kind {
        Kind::Csv => {}
        Kind::GeoJson => out.push("]}"),
        Kind::Html => {
            out.push("</table>");
            out.push(&page_end);
        }
    }
    Ok(out)
}
