//! EDR over observation datasets (CF discrete sampling geometries): the collection's
//! features are its locations (id = the `cf_role` value); `locations/{id}` answers a
//! feature's data, and the spatial queries answer every feature (or, for
//! trajectories, the part of it) that matches. The feature index is built once per
//! dataset version and cached by the EDR service.

mod collection;
mod encode;
mod metadata;
mod netcdf;
mod select;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::{EdrError, EdrResult};
use super::params::{self, Format, Params};
use super::query::with_budget;
pub use collection::{ObsCollection, ObsCollections, QUERIES, load};

pub use crate::features::is_dsg;

/// The description of an observation collection.
pub fn collection_doc(col: &ObsCollection, base: &str) -> Value {
    metadata::collection(col, base)
}

fn json(doc: &Value, media: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(media))],
        doc.to_string(),
    )
        .into_response()
}

/// The parameters a query names (all when none), as indices into `col.params`.
fn selected_params(col: &ObsCollection, params: &Params) -> EdrResult<Vec<usize>> {
    let Some(names) = params.parameter_names() else {
        return Ok((0..col.params.len()).collect());
    };
    let mut out = Vec::new();
    for n in names {
        let i = col
            .params
            .iter()
            .position(|p| p.name == n.trim_start_matches('/'))
            .ok_or_else(|| {
                let known: Vec<&str> = col.params.iter().map(|p| p.name.as_str()).collect();
                EdrError::bad(format!(
                    "parameter-name: no parameter {n:?} in collection {:?}; it has {}",
                    col.id,
                    known.join(", ")
                ))
            })?;
        if !out.contains(&i) {
            out.push(i);
        }
    }
    Ok(out)
}

/// Features listed by `locations` and `items` without `limit`, and at most with it.
const DEFAULT_LIMIT: usize = 10_000;
const MAX_LIMIT: usize = 100_000;

/// Answers a request below an observation collection (`tail` is what follows its id).
pub async fn handle(
    col: Arc<ObsCollection>,
    tail: &str,
    params: Params,
    headers: &HeaderMap,
    base: &str,
    limits: &crate::config::LimitsConfig,
) -> EdrResult<Response> {
    let tail = tail.trim_matches('/');
    let segs: Vec<&str> = if tail.is_empty() {
        vec![]
    } else {
        tail.split('/').collect()
    };
    match segs.as_slice() {
        [] => {
            params.only(&[])?;
            Ok(json(&metadata::collection(&col, base), "application/json"))
        }
        ["items"] | ["locations"] => {
            params.only(&["bbox", "limit"])?;
            let bbox = params
                .get("bbox")
                .map(params::parse_bbox)
                .transpose()?
                .map(|(w, s, e, n, _)| (w, s, e, n));
            let limit = params
                .count("limit")?
                .unwrap_or(DEFAULT_LIMIT)
                .min(MAX_LIMIT);
            let doc = metadata::locations(&col, base, bbox, limit);
            Ok(json(&doc, "application/geo+json"))
        }
        ["items", id @ ..] => {
            params.only(&[])?;
            let id = id.join("/");
            let doc = metadata::item(&col, base, &id).ok_or_else(|| {
                EdrError::NotFound(format!("no item {id:?} in collection {:?}", col.id))
            })?;
            Ok(json(&doc, "application/geo+json"))
        }
        ["locations", loc @ ..] => {
            params.only(&[])?;
            let loc = loc.join("/");
            let fi = col
                .index
                .features
                .iter()
                .position(|f| f.id == loc)
                .ok_or_else(|| {
                    EdrError::NotFound(format!("no location {loc:?} in collection {:?}", col.id))
                })?;
            let filters = select::Filters::parse(&col.index, &params)?;
            let ft = col.index.schema.feature_type;
            let obs = filters.apply(ft, &col.index.features[fi]);
            if obs.is_empty() {
                return Err(EdrError::NoData);
            }
            let picked = vec![select::Picked { feature: fi, obs }];
            respond(&col, picked, &params, headers, limits, true).await
        }
        [q] if QUERIES.contains(q) => {
            let filters = select::Filters::parse(&col.index, &params)?;
            let (c, q2, p2) = (col.clone(), q.to_string(), params.clone());
            let picked = with_budget(limits, move |budget| {
                select::run(&c.index, &q2, &p2, &filters, budget)
            })
            .await?;
            respond(&col, picked, &params, headers, limits, false).await
        }
        _ => Err(EdrError::NotFound(format!(
            "no resource {tail:?} in collection {:?}; queries: {}",
            col.id,
            QUERIES.join(", ")
        ))),
    }
}

/// Checks the answer's size, reads the values, encodes them.
async fn respond(
    col: &Arc<ObsCollection>,
    picked: Vec<select::Picked>,
    params: &Params,
    headers: &HeaderMap,
    limits: &crate::config::LimitsConfig,
    single: bool,
) -> EdrResult<Response> {
    if picked.is_empty() {
        return Err(EdrError::NoData);
    }
    let format = params.format(headers, Format::CovJson)?;
    if format == Format::Html {
        return Err(EdrError::bad(
            "f: observation collections answer CoverageJSON, GeoJSON, CSV or NetCDF",
        ));
    }
    let chosen = selected_params(col, params)?;
    // Every observation costs its coordinates and one value per parameter.
    let values = picked
        .iter()
        .map(|p| p.obs.len() as u64 * (chosen.len() as u64 + 4))
        .fold(0u64, u64::saturating_add);
    if values > limits.max_answer_values {
        return Err(EdrError::TooLarge {
            bytes: values.saturating_mul(8),
            limit: limits.max_answer_values.saturating_mul(8),
        });
    }
    let data = encode::read(col, picked, &chosen).await?;
    if format == Format::NetCdf {
        return netcdf::respond(col, &data, &chosen).await;
    }
    let c = col.clone();
    let (media, body) = tokio::task::spawn_blocking(move || match format {
        Format::GeoJson => (
            Format::GeoJson.media_type(),
            encode::geojson(&c, &data, &chosen).to_string(),
        ),
        Format::Csv => (Format::Csv.media_type(), encode::csv(&c, &data, &chosen)),
        Format::Json => (
            "application/json",
            encode::covjson(&c, &data, &chosen, single).to_string(),
        ),
        _ => (
            Format::CovJson.media_type(),
            encode::covjson(&c, &data, &chosen, single).to_string(),
        ),
    })
    .await
    .map_err(|e| EdrError::Internal(format!("encoding task failed: {e}")))?;
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, media)], body).into_response())
}
