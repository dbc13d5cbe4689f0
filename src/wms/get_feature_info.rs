//! GetFeatureInfo: the value of each queried layer in the grid cell under a pixel, or
//! of the observation feature nearest it.

use axum::response::Response;

use crate::app::AppState;

use super::Version;
use super::error::{ExceptionCode, WmsError};
use super::featureinfo::{self, FeatureValue, InfoFormat};
use super::layers::AnyLayer;
use super::obs_map::ObsQuery;
use super::params::Params;
use super::service::{Scope, Wms};

impl Wms {
    pub(super) async fn feature_info(
        &self,
        state: &AppState,
        scope: &Scope,
        p: &Params,
        version: Version,
    ) -> Result<Response, WmsError> {
        let mut names = p.list("QUERY_LAYERS");
        if names.is_empty() {
            names = p.list("LAYERS");
        }
        if names.is_empty() {
            return Err(WmsError::missing("missing parameter QUERY_LAYERS"));
        }
        let format = InfoFormat::parse(p.non_empty("INFO_FORMAT"))?;
        let view = self.view(state, p, version)?;
        let pixel = |a: &str, b: &str| -> Result<u32, WmsError> {
            let v = p
                .non_empty(a)
                .or_else(|| p.non_empty(b))
                .ok_or_else(|| WmsError::missing(&format!("missing parameter {a}")))?;
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .map(|x| x as u32)
                .ok_or_else(|| {
                    WmsError::new(
                        ExceptionCode::InvalidPoint,
                        format!("{a}={v} is not a pixel"),
                    )
                })
        };
        let (i_name, j_name) = match version {
            Version::V130 => (("I", "X"), ("J", "Y")),
            Version::V111 => (("X", "I"), ("Y", "J")),
        };
        let i = pixel(i_name.0, i_name.1)?;
        let j = pixel(j_name.0, j_name.1)?;
        if i >= view.width || j >= view.height {
            return Err(WmsError::new(
                ExceptionCode::InvalidPoint,
                format!(
                    "pixel ({i}, {j}) is outside the {}×{} map",
                    view.width, view.height
                ),
            ));
        }
        let lonlat = view.lonlat(i, j);
        let mut out = Vec::new();
        for name in &names {
            let (ds, layer) = match self.resolve_layer(state, scope, name).await? {
                (ds, AnyLayer::Grid(layer)) => (ds, layer),
                (ds, AnyLayer::Obs(layer)) => {
                    let q = ObsQuery {
                        time: layer.time_selection(p.non_empty("TIME"))?,
                        level: layer.elevation_value(p.non_empty("ELEVATION"))?,
                    };
                    out.push(
                        self.obs_feature_info(&ds, &layer, name, q, &view, i, j)
                            .await?,
                    );
                    continue;
                }
            };
            let t = layer.time_index(p.non_empty("TIME"))?;
            let z = layer.elevation_index(p.non_empty("ELEVATION"))?;
            let cell = lonlat.and_then(|(lon, lat)| layer.grid.locate(lon, lat));
            let value = match cell {
                Some((r, c)) => {
                    let values = self.slice(state, &ds, &layer, t, z).await?;
                    let v = values[layer.offset(r, c)];
                    (!v.is_nan()).then_some(v as f64)
                }
                None => None,
            };
            let centre = cell.map(|(r, c)| layer.grid.cell_centre(r, c));
            out.push(FeatureValue {
                layer: name.clone(),
                longitude: lonlat.map_or(f64::NAN, |l| l.0),
                latitude: lonlat.map_or(f64::NAN, |l| l.1),
                feature: None,
                cell_longitude: centre.map(|c| c.0),
                cell_latitude: centre.map(|c| c.1),
                time: layer.time.as_ref().map(|a| a.dates[t].to_iso()),
                elevation: layer.elevation.as_ref().map(|a| a.values[z]),
                value,
                units: layer.units.clone(),
            });
        }
        Ok(featureinfo::respond(&out, format))
    }
}
