//! A DSG dataset as an EDR collection: its feature index (built once per dataset
//! version, on the blocking pool) and its observed variables as parameters.

use std::sync::Arc;

use super::super::collection::Param;
use super::super::error::{EdrError, EdrResult};
use crate::cache::{VersionKey, ViewCache, Weight};
use crate::catalog::{Catalog, Dataset};
use crate::error::Kinded;
use crate::features::{DsgError, FeatureIndex, UnionMember, build_index_off_the_workers, union};
use crate::model::DataType;
use crate::model::cf::Packing;

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

pub fn edr_error(e: DsgError) -> EdrError {
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
/// index reads the coordinates and walks every observation: on the blocking pool. An
/// aggregation of DSG files by their features unites its members' collections, each
/// cached per member version (a rescan rebuilds only the changed files' indexes).
pub async fn load(
    cache: &ObsCollections,
    catalog: &Catalog,
    ds: &Arc<Dataset>,
) -> EdrResult<Arc<ObsCollection>> {
    let Some(ids) = catalog.feature_members(&ds.id) else {
        return load_file(cache, ds).await;
    };
    let ds2 = ds.clone();
    cache
        .try_get_with(VersionKey::of(ds), async move {
            let mut members = Vec::new();
            for id in ids {
                let m = catalog.open(&id).await?;
                match load_file(cache, &m).await {
                    Ok(c) => members.push(UnionMember {
                        index: c.index.clone(),
                        source: c.ds.clone(),
                    }),
                    Err(e) => tracing::warn!("edr: {}: member {id}: {e}", ds2.id),
                }
            }
            let index = union(members).map_err(edr_error)?;
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

/// The observation collection of one DSG file.
async fn load_file(cache: &ObsCollections, ds: &Arc<Dataset>) -> EdrResult<Arc<ObsCollection>> {
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
