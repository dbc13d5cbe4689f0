//! Observation layers: every observed variable of a CF discrete-sampling-geometry
//! dataset is a layer drawn as points (stations, profiles, points) or tracks
//! (trajectories). Where and when the observations are comes from the feature index
//! (`crate::features`), built once per dataset version.

use std::sync::Arc;

use crate::catalog::Dataset;
use crate::error::Kinded;
use crate::features::{DsgError, FeatureIndex, build_index_off_the_workers};
use crate::model::cf::{CfDateTime, Packing};
use crate::model::{AttrValue, Variable, format_float};
use crate::subset::BBox;

use super::error::{ExceptionCode, WmsError};
use super::obs_select::{TimeSelection, has_levels};
use super::time_extent::compact_time_extent;

/// Times listed one by one in capabilities up to this many; beyond, an interval.
const MAX_LISTED_TIMES: usize = 100;
/// Elevations listed one by one up to this many; beyond, the interval `min/max/0`.
const MAX_LISTED_LEVELS: usize = 100;

/// One observed variable of an observation dataset.
#[derive(Debug)]
pub struct ObsLayer {
    pub dataset_id: String,
    /// Variable path without the leading `/`.
    pub var_name: String,
    pub var: Variable,
    pub title: String,
    pub abstract_text: Option<String>,
    pub units: Option<String>,
    pub packing: Packing,
    pub bbox: BBox,
    pub index: Arc<FeatureIndex>,
    /// The capabilities' TIME extent and default (`None`: the file has no usable time).
    pub time: Option<ObsTimeExtent>,
    /// Features have several levels at one place (profiles): ELEVATION picks one.
    /// The capabilities' extent, default (the first level) and units.
    pub elevation: Option<ObsElevation>,
}

#[derive(Debug, Clone)]
pub struct ObsTimeExtent {
    /// Annex C text: a list of times, or `start/end/period`.
    pub extent: String,
    /// The whole span `start/end` (a single time when there is one): what a map
    /// without TIME shows.
    pub default: String,
}

#[derive(Debug, Clone)]
pub struct ObsElevation {
    pub extent: String,
    pub default: f64,
    pub units: String,
}

impl ObsLayer {
    /// `{dataset id}/{variable}`: the name in the all-datasets service.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.dataset_id, self.var_name)
    }

    /// The observations TIME selects. A list selects by its first element, like the
    /// gridded layers; `current` is the latest time of the dataset.
    pub fn time_selection(&self, value: Option<&str>) -> Result<TimeSelection, WmsError> {
        let Some(units) = &self.index.time_units else {
            return Ok(TimeSelection::All);
        };
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(TimeSelection::All);
        };
        let v = v.split(',').next().unwrap_or(v).trim();
        if v.eq_ignore_ascii_case("current") || v.eq_ignore_ascii_case("present") {
            return Ok(self
                .index
                .time_span()
                .map_or(TimeSelection::All, |(_, end)| TimeSelection::Instant(end)));
        }
        let bad = |why: &str| {
            WmsError::new(
                ExceptionCode::InvalidDimensionValue,
                format!("TIME={v}: {why}"),
            )
        };
        let encode = |s: &str| -> Result<f64, WmsError> {
            let t = CfDateTime::parse(s.trim()).map_err(|_| bad("not an ISO 8601 time"))?;
            units.encode(&t).map_err(|e| bad(&e.to_string()))
        };
        let parts: Vec<&str> = v.split('/').collect();
        match parts.as_slice() {
            [one] => Ok(TimeSelection::Instant(encode(one)?)),
            // `start/end/period`: the period only describes the extent.
            [a, b] | [a, b, _] => {
                let (a, b) = (encode(a)?, encode(b)?);
                if a > b {
                    return Err(bad("the start is after the end"));
                }
                Ok(TimeSelection::Range(a, b))
            }
            _ => Err(bad("not a time or a start/end range")),
        }
    }

    /// The level ELEVATION picks (the first level when absent); `None` for layers
    /// without levels, where ELEVATION is ignored as for gridded layers without one.
    pub fn elevation_value(&self, value: Option<&str>) -> Result<Option<f64>, WmsError> {
        let Some(axis) = &self.elevation else {
            return Ok(None);
        };
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(Some(axis.default));
        };
        let v = v.split(',').next().unwrap_or(v).trim();
        let first = v.split('/').next().unwrap_or(v);
        first
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| {
                WmsError::new(
                    ExceptionCode::InvalidDimensionValue,
                    format!("ELEVATION={v}: not a number"),
                )
            })
    }

    /// ISO 8601 text of a time value.
    pub fn iso(&self, t: f64) -> Option<String> {
        self.index.iso(t)
    }
}

fn text(var: &Variable, name: &str) -> Option<String> {
    var.attr(name)
        .and_then(AttrValue::as_text)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The WMS error of a feature index that cannot be built (a malformed DSG file).
fn dsg_error(id: &str, e: DsgError) -> WmsError {
    let mut err = WmsError::unavailable(format!(
        "dataset {id} cannot be served as observations: {}",
        e.public_message()
    ));
    err.status = e.kind().status();
    if err.status.is_client_error() {
        // The file is what it is: not the requester's mistake.
        err.status = axum::http::StatusCode::SERVICE_UNAVAILABLE;
    }
    err
}

/// An ISO 8601 duration of `seconds`, in the largest whole unit.
fn iso_period(seconds: f64) -> String {
    let s = seconds.round() as i64;
    if (seconds - s as f64).abs() > 1e-6 || s <= 0 {
        return format!("PT{}S", format_float(seconds.max(0.001), false));
    }
    match s {
        s if s % 86400 == 0 => format!("P{}D", s / 86400),
        s if s % 3600 == 0 => format!("PT{}H", s / 3600),
        s if s % 60 == 0 => format!("PT{}M", s / 60),
        s => format!("PT{s}S"),
    }
}

/// The TIME extent of an index: as for gridded layers (a compact `start/end/period`
/// for regular times, else a list) when the times are regular or few; else the span
/// with the finest spacing between observation times as the period.
pub fn time_extent(index: &FeatureIndex) -> Option<ObsTimeExtent> {
    let units = index.time_units.as_ref()?;
    let mut times: Vec<f64> = index
        .features
        .iter()
        .flat_map(|f| f.t.iter().copied())
        .filter(|t| t.is_finite())
        .collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    let dates: Option<Vec<CfDateTime>> = times.iter().map(|t| units.decode(*t)).collect();
    let dates = dates?;
    let (start, end) = (dates.first()?.to_iso(), dates.last()?.to_iso());
    let default = if times.len() == 1 {
        start.clone()
    } else {
        format!("{start}/{end}")
    };
    let mut extent = compact_time_extent(&dates, &times, units.unit_seconds);
    if times.len() > MAX_LISTED_TIMES && extent.contains(',') {
        let finest = times
            .windows(2)
            .map(|w| w[1] - w[0])
            .fold(f64::INFINITY, f64::min);
        extent = format!("{start}/{end}/{}", iso_period(finest * units.unit_seconds));
    }
    Some(ObsTimeExtent { extent, default })
}

fn elevation_extent(index: &FeatureIndex) -> Option<ObsElevation> {
    if !index.features.iter().any(has_levels) {
        return None;
    }
    let levels = &index.levels;
    let (first, last) = (*levels.first()?, *levels.last()?);
    let num = |v: f64| format_float((v * 1e9).round() / 1e9, false);
    let extent = if levels.len() <= MAX_LISTED_LEVELS {
        levels.iter().map(|v| num(*v)).collect::<Vec<_>>().join(",")
    } else {
        // The levels differ between profiles: any value in the span may be asked for
        // (each feature answers with its nearest level).
        format!("{}/{}/0", num(first), num(last))
    };
    let units = index
        .schema
        .z
        .as_ref()
        .and_then(|z| text(z, "units"))
        .unwrap_or_else(|| "1".into());
    Some(ObsElevation {
        extent,
        default: first,
        units,
    })
}

/// The observation layers of a DSG dataset: its feature index is built (on the
/// blocking pool) and each observed variable becomes a layer.
pub async fn build(ds: &Arc<Dataset>) -> Result<Vec<Arc<ObsLayer>>, WmsError> {
    let index = build_index_off_the_workers(ds.clone())
        .await
        .map_err(|e| dsg_error(&ds.id, e))?;
    let index = Arc::new(index);
    let Some((w, s, e, n)) = index.bbox() else {
        return Ok(Vec::new());
    };
    let Ok(bbox) = BBox::of_data(w, s, e, n) else {
        return Ok(Vec::new());
    };
    let ix = index.clone();
    let (time, elevation) =
        tokio::task::spawn_blocking(move || (time_extent(&ix), elevation_extent(&ix)))
            .await
            .map_err(|e| WmsError::internal(format!("observation layers: {e}")))?;
    Ok(index
        .schema
        .data
        .iter()
        .filter(|v| v.dtype.is_numeric())
        .map(|var| {
            Arc::new(ObsLayer {
                dataset_id: ds.id.clone(),
                var_name: var.path.trim_start_matches('/').to_string(),
                var: var.clone(),
                title: text(var, "long_name")
                    .or_else(|| text(var, "standard_name"))
                    .unwrap_or_else(|| var.name.clone()),
                abstract_text: text(var, "comment").or_else(|| text(var, "description")),
                units: text(var, "units"),
                packing: Packing::of(var),
                bbox,
                index: index.clone(),
                time: time.clone(),
                elevation: elevation.clone(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::build_index;
    use crate::features::testing::{profiles, stations, tracks};

    async fn layer_of(m: crate::features::testing::Mem, var: &str) -> ObsLayer {
        let index = Arc::new(build_index(&m, &m.meta).await.unwrap());
        let var = index
            .schema
            .data
            .iter()
            .find(|v| v.name == var)
            .unwrap()
            .clone();
        let (w, s, e, n) = index.bbox().unwrap();
        ObsLayer {
            dataset_id: "d".into(),
            var_name: var.name.clone(),
            packing: Packing::of(&var),
            var,
            title: "t".into(),
            abstract_text: None,
            units: None,
            bbox: BBox::of_data(w, s, e, n).unwrap(),
            time: time_extent(&index),
            elevation: elevation_extent(&index),
            index,
        }
    }

    #[tokio::test]
    async fn station_times_listed_and_selected() {
        let l = layer_of(stations(), "temp").await;
        let t = l.time.as_ref().unwrap();
        // Daily (days since 2020-01-01): compact, as for gridded layers.
        assert_eq!(t.extent, "2020-01-01T00:00:00Z/2020-01-04T00:00:00Z/P1D");
        assert_eq!(t.default, "2020-01-01T00:00:00Z/2020-01-04T00:00:00Z");
        assert!(l.elevation.is_none());
        assert_eq!(l.time_selection(None).unwrap(), TimeSelection::All);
        assert_eq!(
            l.time_selection(Some("2020-01-01T00:00:00Z")).unwrap(),
            TimeSelection::Instant(0.0)
        );
        assert_eq!(
            l.time_selection(Some("2020-01-01/2020-01-03T00:00:00Z"))
                .unwrap(),
            TimeSelection::Range(0.0, 2.0)
        );
        assert_eq!(
            l.time_selection(Some("current")).unwrap(),
            TimeSelection::Instant(3.0)
        );
        for bad in ["yesterday", "2020-01-03/2020-01-01", "a/b/c/d"] {
            let e = l.time_selection(Some(bad)).unwrap_err();
            assert_eq!(e.code, Some(ExceptionCode::InvalidDimensionValue), "{bad}");
        }
    }

    #[tokio::test]
    async fn profiles_have_levels_tracks_do_not() {
        let l = layer_of(profiles(&[3, 2]), "salt").await;
        let e = l.elevation.as_ref().unwrap();
        assert_eq!(e.extent, "0,5,10,20");
        assert_eq!(l.elevation_value(None).unwrap(), Some(0.0));
        assert_eq!(l.elevation_value(Some("9")).unwrap(), Some(9.0));
        assert!(l.elevation_value(Some("deep")).is_err());
        let l = layer_of(tracks(&[0, 1, 0, 1, 0]), "temp").await;
        assert!(l.elevation.is_none());
        assert_eq!(l.elevation_value(Some("deep")).unwrap(), None);
    }

    #[test]
    fn periods_in_whole_units() {
        assert_eq!(iso_period(3600.0), "PT1H");
        assert_eq!(iso_period(86400.0 * 2.0), "P2D");
        assert_eq!(iso_period(600.0), "PT10M");
        assert_eq!(iso_period(7.0), "PT7S");
        assert_eq!(iso_period(0.5), "PT0.5S");
    }
}
