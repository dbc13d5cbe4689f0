//! EDR over observation datasets (CF discrete sampling geometries): the collection's
//! features are its locations (id = the `cf_role` value); `locations/{id}` answers a
//! feature's data, and the spatial queries answer every feature (or, for
//! trajectories, the part of it) that matches. The feature index is built once per
//! dataset version and cached by the EDR service.

mod encode;
mod metadata;
mod select;

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::collection::Param;
use super::error::{EdrError, EdrResult};
use super::params::{self, Format, Params};
use super::query::with_budget;
use crate::cache::{VersionKey, ViewCache, Weight};
use crate::catalog::Dataset;
use crate::error::Kinded;
use crate::features::{DsgError, FeatureIndex, build_index_off_the_workers};
use crate::model::DataType;
use crate::model::cf::Packing;

pub use crate::features::is_dsg;

/// The queries an observation collection answers. `trajectory` (a line with no
/// width) selects nothing among scattered observations: `corridor` is its form here.
pub const QUERIES: &[&str] = &[
    "position",
    "radius",
    "area",
    "cube",
    "corridor",
    "items",
    "locations",
];

/// A DSG dataset as an EDR collection: its feature index and parameters.
pub struct ObsCollection {
    pub id: String,
    pub title: String,
    pub ds: Arc<Dataset>,
    pub index: Arc<FeatureIndex>,
    /// The observed variables (parameters keep the gridded path's type, so encoders
    /// share their labels and units).
    pub params: Vec<Param>,
}

impl Weight for ObsCollection {
    fn weight(&self) -> usize {
        self.index.weight()
    }
}

/// Observation collections of dataset versions: owned by the EDR service.
pub type ObsCollections = ViewCache<VersionKey, Arc<ObsCollection>>;

pub(super) fn edr_error(e: DsgError) -> EdrError {
    EdrError::of_kind(e.kind(), e.public_message())
}

fn param(var: &crate::model::Variable) -> Param {
    let packing = Packing::of(var);
    Param {
        name: var.path.trim_start_matches('/').to_string(),
        single: var.dtype == DataType::F32,
        integer: !packing.is_packed() && !var.dtype.is_float(),
        var: var.clone(),
        group: 0,
        packing,
    }
}

/// The observation collection of a DSG dataset (cached per version). Building the
/// index reads the coordinates and walks every observation: on the blocking pool.
pub async fn load(cache: &ObsCollections, ds: &Arc<Dataset>) -> EdrResult<Arc<ObsCollection>> {
    let ds2 = ds.clone();
    cache
        .try_get_with(VersionKey::of(ds), async move {
            let index = build_index_off_the_workers(ds2.clone())
                .await
                .map_err(edr_error)?;
            let params = index.schema.data.iter().map(param).collect();
            Ok::<_, EdrError>(Arc::new(ObsCollection {
                id: ds2.id.clone(),
                title: ds2.title.clone(),
                ds: ds2.clone(),
                index: Arc::new(index),
                params,
            }))
        })
        .await
        .map_err(|e: Arc<EdrError>| EdrError::of_kind(kind_of(&e), e.to_string()))
}

fn kind_of(e: &EdrError) -> crate::error::ErrorKind {
    use crate::error::ErrorKind;
    match e {
        EdrError::BadRequest(_) => ErrorKind::BadRequest,
        EdrError::NotFound(_) => ErrorKind::NotFound,
        EdrError::Upstream(503, _) => ErrorKind::Unreadable,
        EdrError::Upstream(504, _) => ErrorKind::UpstreamTimeout,
        EdrError::Upstream(..) => ErrorKind::UpstreamFailed,
        _ => ErrorKind::Internal,
    }
}

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
            let limit = params.count("limit")?.unwrap_or(usize::MAX);
            let doc = metadata::locations(&col, base, bbox, limit);
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
    if format == Format::NetCdf || format == Format::Html {
        return Err(EdrError::bad(
            "f: observation collections answer CoverageJSON, GeoJSON or CSV",
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
