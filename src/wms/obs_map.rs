//! Maps and feature queries of observation layers: the observations a view shows are
//! selected from the feature index (on the blocking pool), counted against the map
//! limits, read (one small read per feature, or the variable whole once for maps of
//! many features), then coloured into marks, all before drawing; GetFeatureInfo
//! answers the feature nearest the clicked pixel.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};

use crate::app::AppState;
use crate::cache::VersionKey;
use crate::catalog::Dataset;
use crate::error::Kinded;
use crate::features::{DsgError, Feature, Level, read_observations};
use crate::subset::Hyperslab;

use super::error::WmsError;
use super::featureinfo::FeatureValue;
use super::obs_draw::{DOT_RADIUS, Mark};
use super::obs_layers::ObsLayer;
use super::obs_select::{Selected, Selection, TimeSelection, nearest, select};
use super::render::MapView;
use super::service::Wms;
use super::style::ColorScale;

/// Features read at once for one map.
const READS_IN_FLIGHT: usize = 8;
/// A map of more features than this reads the observed variable whole, once (cached
/// with the decoded slices), rather than once per feature...
const BULK_FEATURES: usize = 16;
/// ...when it has at most this many values (the read and its decoded copy stay
/// under ~50 MB).
const BULK_MAX_VALUES: usize = 4 << 20;
/// A click finds a feature this many pixels from its dot's centre or its track.
const CLICK_TOLERANCE: f32 = DOT_RADIUS + 3.0;

/// Features and observations a map has selected so far, over its layers.
#[derive(Debug, Default)]
pub(super) struct MapCost {
    features: usize,
    observations: usize,
}

/// What TIME and ELEVATION asked of an observation layer.
#[derive(Debug, Clone, Copy)]
pub(super) struct ObsQuery {
    pub time: TimeSelection,
    pub level: Option<f64>,
}

fn read_error(var: &str, e: DsgError) -> WmsError {
    let mut err = WmsError::unavailable(format!("reading {var}: {}", e.public_message()));
    err.status = match e.kind() {
        // Rows come from the feature index: a failure is ours or the file's.
        crate::error::ErrorKind::BadRequest | crate::error::ErrorKind::NotFound => {
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        }
        kind => kind.status(),
    };
    err
}

/// The selection of a layer for a view, on the blocking pool (it walks the index).
async fn selection(
    layer: &Arc<ObsLayer>,
    view: &MapView,
    q: ObsQuery,
) -> Result<Selection, WmsError> {
    let (layer, view) = (layer.clone(), view.clone());
    tokio::task::spawn_blocking(move || {
        select(&layer.index, &view, q.time, q.level, DOT_RADIUS + 1.0)
    })
    .await
    .map_err(|e| WmsError::internal(format!("selecting observations failed: {e}")))
}

/// The values of `var` at the picks of each selected feature.
async fn read_values(
    ds: &Arc<Dataset>,
    layer: &ObsLayer,
    items: &[Selected],
) -> Result<Vec<Vec<f64>>, WmsError> {
    // By index: a closure over `&Selected` would not be `Send` for every lifetime.
    futures::stream::iter(0..items.len())
        .map(|i| async move {
            let item = &items[i];
            let feature = &layer.index.features[item.feature];
            read_observations(&**ds, &layer.index, feature, &layer.var, &item.picks)
                .await
                .map_err(|e| read_error(&layer.var_name, e))
        })
        .buffered(READS_IN_FLIGHT)
        .try_collect()
        .await
}

/// Where the value of observation `row` of instance `inst` lies in the whole variable
/// (`rows` long along the observation dimension, `instances` features); the same
/// addressing as the feature index's coordinates.
fn value_offset(
    level: Level,
    instances: usize,
    rows: usize,
    inst: usize,
    row: usize,
) -> Option<usize> {
    #[allow(unreachable_patterns)]
    match level {
        Level::Scalar => Some(0),
        Level::Instance => Some(inst),
        Level::Obs {
            instance_axis: None,
        } => Some(row),
        Level::Obs {
            instance_axis: Some(0),
        } => inst.checked_mul(rows)?.checked_add(row),
        Level::Obs {
            instance_axis: Some(_),
        } => row.checked_mul(instances)?.checked_add(inst),
        // A layout this does not know: read feature by feature.
        _ => None,
    }
}

/// The values of each selected feature's picks, taken from the whole variable; `None`
/// if an offset falls outside it.
fn values_from_whole(
    layer: &ObsLayer,
    level: Level,
    items: &[Selected],
    all: &[f32],
) -> Option<Vec<Vec<f64>>> {
    let schema = &layer.index.schema;
    let (instances, rows) = (schema.instances(), schema.obs_dim.len);
    items
        .iter()
        .map(|item| {
            let f = &layer.index.features[item.feature];
            item.picks
                .iter()
                .map(|&k| {
                    let row = *f.rows.get(k)? as usize;
                    let at = value_offset(level, instances, rows, f.instance, row)?;
                    all.get(at).map(|v| *v as f64)
                })
                .collect()
        })
        .collect()
}

/// The pick a fixed feature shows: its latest observation with a value.
fn shown(values: &[f64]) -> Option<usize> {
    values.iter().rposition(|v| v.is_finite())
}

/// Two observations of a track on either side of the antimeridian are not joined.
fn crosses_antimeridian(f: &Feature, a: usize, b: usize) -> bool {
    (f.x(a) - f.x(b)).abs() > 180.0
}

/// The marks of a selection: a dot per fixed feature coloured by the value it shows;
/// a track as lines, each step between consecutive observations coloured by the first's
/// value (the second's when the first is missing), steps of one colour joined into one
/// line and steps shorter than a pixel merged. Missing values draw nothing.
pub(super) fn marks(
    features: &[Feature],
    sel: &Selection,
    values: &[Vec<f64>],
    scale: &ColorScale,
) -> Vec<Mark> {
    let colour = |v: f64| Some(scale.color(v as f32)).filter(|c| c[3] != 0);
    let mut out = Vec::new();
    for (item, vals) in sel.items.iter().zip(values) {
        let f = &features[item.feature];
        if item.fixed || item.picks.len() == 1 {
            let k = if item.fixed { shown(vals) } else { Some(0) };
            if let Some(k) = k
                && let Some(color) = vals.get(k).and_then(|v| colour(*v))
            {
                out.push(Mark::Dot {
                    at: item.pixels[k],
                    color,
                });
            }
            continue;
        }
        let last = item.picks.len() - 1;
        let mut line: Option<(Vec<[f32; 2]>, [u8; 4])> = None;
        for k in 0..last {
            let v = if vals[k].is_finite() {
                vals[k]
            } else {
                vals[k + 1]
            };
            let step =
                colour(v).filter(|_| !crosses_antimeridian(f, item.picks[k], item.picks[k + 1]));
            let (from, to) = (item.pixels[k], item.pixels[k + 1]);
            match (&mut line, step) {
                (Some((points, c)), Some(color)) if *c == color => {
                    let end = points[points.len() - 1];
                    if (to[0] - end[0]).hypot(to[1] - end[1]) >= 1.0 || k + 1 == last {
                        points.push(to);
                    }
                }
                (_, step) => {
                    if let Some((points, color)) = line.take() {
                        out.push(Mark::Line { points, color });
                    }
                    line = step.map(|color| (vec![from, to], color));
                }
            }
        }
        if let Some((points, color)) = line {
            out.push(Mark::Line { points, color });
        }
    }
    out
}

impl Wms {
    /// The decoded values of an observed variable whole (NaN where missing), cached;
    /// `None` when it is too large to read at once.
    async fn whole_variable(
        &self,
        state: &AppState,
        ds: &Arc<Dataset>,
        layer: &Arc<ObsLayer>,
    ) -> Result<Option<Arc<Vec<f32>>>, WmsError> {
        let shape = layer.var.shape();
        let n: usize = shape.iter().product();
        let bytes = n.saturating_mul(layer.var.dtype.size().unwrap_or(8)) as u64;
        if n > BULK_MAX_VALUES || bytes > state.config.limits.max_response_bytes {
            return Ok(None);
        }
        let key = (
            VersionKey::of(ds),
            layer.var.path.clone(),
            usize::MAX,
            usize::MAX,
        );
        let (ds, layer) = (ds.clone(), layer.clone());
        self.caches
            .slices
            .try_get_with(key, async move {
                let arr = ds
                    .read(&layer.var.path, &Hyperslab::full(&shape))
                    .await
                    .map_err(|e| WmsError::read_failed(&layer.var.path, &e))?;
                tokio::task::spawn_blocking(move || {
                    let p = &layer.packing;
                    let values: Vec<f32> = (0..arr.values.len())
                        .map(|i| {
                            p.decode(arr.values.get_f64(i))
                                .map_or(f32::NAN, |v| v as f32)
                        })
                        .collect();
                    Arc::new(values)
                })
                .await
                .map_err(|e| WmsError::internal(format!("decoding observations failed: {e}")))
            })
            .await
            .map(Some)
            .map_err(|e: Arc<WmsError>| (*e).clone())
    }

    /// The marks of an observation layer on a map, its cost added to `cost` and
    /// checked against the map limits before anything is read.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn obs_marks(
        &self,
        state: &AppState,
        ds: &Arc<Dataset>,
        layer: &Arc<ObsLayer>,
        q: ObsQuery,
        scale: &ColorScale,
        view: &MapView,
        cost: &mut MapCost,
    ) -> Result<Vec<Mark>, WmsError> {
        let sel = selection(layer, view, q).await?;
        cost.features += sel.items.len();
        cost.observations += sel.observations;
        let c = &state.config.wms;
        if cost.features > c.max_map_features || cost.observations > c.max_map_observations {
            return Err(WmsError {
                code: Some(super::error::ExceptionCode::NoApplicableCode),
                message: format!(
                    "this map would draw {} features and read {} observations; this server \
                     draws at most {} features and {} observations in one map: narrow TIME \
                     or the bounding box",
                    cost.features, cost.observations, c.max_map_features, c.max_map_observations
                ),
                status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            });
        }
        let whole = match layer.index.schema.level(&layer.var) {
            Some(level) if sel.items.len() > BULK_FEATURES => self
                .whole_variable(state, ds, layer)
                .await?
                .and_then(|all| values_from_whole(layer, level, &sel.items, &all)),
            _ => None,
        };
        let values = match whole {
            Some(v) => v,
            None => read_values(ds, layer, &sel.items).await?,
        };
        let (layer, scale) = (layer.clone(), scale.clone());
        tokio::task::spawn_blocking(move || marks(&layer.index.features, &sel, &values, &scale))
            .await
            .map_err(|e| WmsError::internal(format!("drawing observations failed: {e}")))
    }

    /// The feature of an observation layer nearest pixel (`i`, `j`): its id, the
    /// position, time and value of the observation shown there; only the queried
    /// point when no feature is within a few pixels.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn obs_feature_info(
        &self,
        ds: &Arc<Dataset>,
        layer: &Arc<ObsLayer>,
        name: &str,
        q: ObsQuery,
        view: &MapView,
        i: u32,
        j: u32,
    ) -> Result<FeatureValue, WmsError> {
        let lonlat = view.lonlat(i, j);
        let mut answer = FeatureValue {
            layer: name.to_string(),
            longitude: lonlat.map_or(f64::NAN, |l| l.0),
            latitude: lonlat.map_or(f64::NAN, |l| l.1),
            feature: None,
            cell_longitude: None,
            cell_latitude: None,
            time: None,
            elevation: None,
            value: None,
            units: layer.units.clone(),
        };
        let sel = selection(layer, view, q).await?;
        let click = [i as f32 + 0.5, j as f32 + 0.5];
        let Some((n, pick)) = nearest(&sel, click, CLICK_TOLERANCE) else {
            return Ok(answer);
        };
        let item = &sel.items[n];
        // A track: the one observation nearest the click; a fixed feature: the
        // observations its dot could show (at most a station's tail).
        let item = match pick {
            Some(k) => Selected {
                picks: vec![item.picks[k]],
                pixels: vec![item.pixels[k]],
                ..item.clone()
            },
            None => item.clone(),
        };
        let values = read_values(ds, layer, std::slice::from_ref(&item)).await?;
        let values = values.into_iter().next().unwrap_or_default();
        let k = if item.fixed { shown(&values) } else { Some(0) }
            .unwrap_or(item.picks.len().saturating_sub(1));
        let f = &layer.index.features[item.feature];
        let obs = item.picks.get(k).copied().unwrap_or(0);
        answer.feature = Some(f.id.clone());
        answer.cell_longitude = Some(f.x(obs)).filter(|v| v.is_finite());
        answer.cell_latitude = Some(f.y(obs)).filter(|v| v.is_finite());
        answer.time = layer.iso(f.t(obs));
        answer.elevation = Some(f.z(obs)).filter(|v| v.is_finite());
        answer.value = values.get(k).copied().filter(|v| v.is_finite());
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::build_index;
    use crate::features::testing::{Mem, profiles, stations, tracks};
    use crate::model::cf::Packing;
    use crate::subset::BBox;
    use crate::wms::crs::Crs;
    use crate::wms::style::OutOfRange;

    fn world() -> MapView {
        MapView {
            crs: Crs::parse("CRS:84").unwrap(),
            bbox: [-180.0, -90.0, 180.0, 90.0],
            width: 360,
            height: 180,
        }
    }

    fn scale() -> ColorScale {
        ColorScale::new(
            "viridis",
            0.0,
            10.0,
            false,
            250,
            OutOfRange::Extend,
            OutOfRange::Extend,
        )
    }

    #[tokio::test]
    async fn stations_show_their_latest_value() {
        let m = stations();
        let ix = build_index(&m, &m.meta).await.unwrap();
        let sel = select(&ix, &world(), TimeSelection::All, None, 6.0);
        // Station B's last value is missing: its dot shows the one before.
        let values = vec![
            vec![0.0, 1.0, 2.0, 3.0],
            vec![4.0, 5.0, 6.0, f64::NAN],
            vec![f64::NAN; 4],
        ];
        let s = scale();
        let got = marks(&ix.features, &sel, &values, &s);
        assert_eq!(
            got,
            vec![
                Mark::Dot {
                    at: [175.0, 80.0],
                    color: s.color(3.0)
                },
                Mark::Dot {
                    at: [185.0, 70.0],
                    color: s.color(6.0)
                },
            ]
        );
    }

    #[tokio::test]
    async fn tracks_are_coloured_lines() {
        let m = tracks(&[0, 1, 0, 1, 0]);
        let ix = build_index(&m, &m.meta).await.unwrap();
        let sel = select(&ix, &world(), TimeSelection::All, None, 6.0);
        let values = vec![vec![1.0, f64::NAN, 5.0], vec![2.0, 4.0]];
        let s = scale();
        let got = marks(&ix.features, &sel, &values, &s);
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[1],
            Mark::Line {
                points: vec![[181.0, 89.0], [182.0, 88.0]],
                color: s.color(5.0)
            }
        );
    }

    /// Steps of one colour are one line; steps under a pixel are merged.
    #[test]
    fn long_tracks_are_thinned() {
        let n = 1001;
        let f = Feature {
            id: "t".into(),
            instance: 0,
            rows: (0..n as u32).collect(),
            x: (0..n).map(|k| k as f64 * 0.01).collect(),
            y: vec![0.0; n],
            t: (0..n).map(|k| k as f64).collect(),
            z: vec![],
            bbox: (0.0, 0.0, 10.0, 0.0),
            time_span: Some((0.0, n as f64 - 1.0)),
            profiles: Vec::new(),
            member: 0,
        };
        let sel = Selection {
            items: vec![Selected {
                feature: 0,
                picks: (0..n).collect(),
                pixels: (0..n).map(|k| [k as f32 * 0.1, 50.0]).collect(),
                fixed: false,
            }],
            observations: n,
        };
        let s = scale();
        let mut values = vec![vec![5.0; n]];
        let got = marks(std::slice::from_ref(&f), &sel, &values, &s);
        let [Mark::Line { points, .. }] = got.as_slice() else {
            panic!("{got:?}")
        };
        assert!(
            (95..=105).contains(&points.len()),
            "one point a pixel: {}",
            points.len()
        );
        assert_eq!(points[0], [0.0, 50.0]);
        assert_eq!(points[points.len() - 1], [100.0, 50.0]);
        // A colour change starts a new line; a missing stretch breaks it.
        values[0][500] = 9.0;
        for v in &mut values[0][700..702] {
            *v = f64::NAN;
        }
        let got = marks(std::slice::from_ref(&f), &sel, &values, &s);
        assert_eq!(got.len(), 4, "{got:?}");
    }

    /// The whole-variable path gives what one read per feature gives, in every layout.
    #[tokio::test]
    async fn whole_variable_values_equal_per_feature_reads() {
        for (m, var) in [
            (stations(), "temp"),
            (profiles(&[3, 2]), "salt"),
            (tracks(&[0, 1, 0, 1, 0]), "temp"),
            (tracks(&[1, 1, 0, 0, 1]), "temp"),
        ] {
            let m: Mem = m;
            let index = Arc::new(build_index(&m, &m.meta).await.unwrap());
            let var = index
                .schema
                .data
                .iter()
                .find(|v| v.name == var)
                .unwrap()
                .clone();
            let layer = ObsLayer {
                dataset_id: "d".into(),
                var_name: var.name.clone(),
                packing: Packing::of(&var),
                var: var.clone(),
                title: String::new(),
                abstract_text: None,
                units: None,
                bbox: BBox::world(),
                index: index.clone(),
                time: None,
                elevation: None,
            };
            let sel = select(&index, &world(), TimeSelection::All, None, 6.0);
            assert!(!sel.items.is_empty());
            let whole = crate::features::ArraySource::read_array(
                &m,
                &var.path,
                &Hyperslab::full(&var.shape()),
            )
            .await
            .unwrap();
            let all: Vec<f32> = (0..whole.values.len())
                .map(|i| whole.values.get_f64(i) as f32)
                .collect();
            let level = index.schema.level(&var).unwrap();
            let got = values_from_whole(&layer, level, &sel.items, &all).unwrap();
            for (item, got) in sel.items.iter().zip(got) {
                let f = &index.features[item.feature];
                let want = read_observations(&m, &index, f, &var, &item.picks)
                    .await
                    .unwrap();
                // The whole variable is kept as f32 (colours need no more).
                let want: Vec<f64> = want.iter().map(|v| *v as f32 as f64).collect();
                assert_eq!(got, want, "{var:?} feature {}", f.id);
            }
        }
    }
}
