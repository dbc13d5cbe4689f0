//! Which observations a query selects, from the feature index alone (no data read):
//! time and vertical filters, then the geometry (nearest feature, radius, polygon,
//! box, corridor). Runs on the blocking pool with the same cost caps and cancellation
//! as gridded queries.

use std::sync::atomic::{AtomicBool, Ordering};

use super::super::error::{EdrError, EdrResult};
use super::super::geometry::{self, Geometry, Pos};
use super::super::params::{self, DateTimeSel, Params, ZSel};
use super::super::query::Budget;
use crate::features::{Feature, FeatureIndex, FeatureType};

/// The observations of one feature a query keeps: indices into its coordinate lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    pub feature: usize,
    pub obs: Vec<usize>,
}

/// The `datetime` and `z` filters, with times in the time variable's units.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    times: Option<TimeFilter>,
    z: Option<ZSel>,
}

#[derive(Debug, Clone)]
enum TimeFilter {
    Interval(f64, f64),
    Instants(Vec<f64>),
}

impl Filters {
    pub fn parse(index: &FeatureIndex, params: &Params) -> EdrResult<Filters> {
        let z = params.get("z").map(params::parse_z).transpose()?;
        let Some(dt) = params.get("datetime") else {
            return Ok(Filters { times: None, z });
        };
        let sel = params::parse_datetime(dt)?;
        let units = index
            .time_units
            .as_ref()
            .ok_or_else(|| EdrError::bad("datetime: this collection has no time coordinate"))?;
        let enc = |t: &crate::model::cf::CfDateTime| {
            units
                .encode(t)
                .map_err(|e| EdrError::bad(format!("datetime: {e}")))
        };
        let times = match sel {
            DateTimeSel::Instant(t) => TimeFilter::Instants(vec![enc(&t)?]),
            DateTimeSel::List(ts) => {
                TimeFilter::Instants(ts.iter().map(enc).collect::<EdrResult<_>>()?)
            }
            DateTimeSel::Interval(lo, hi) => TimeFilter::Interval(
                lo.as_ref()
                    .map(enc)
                    .transpose()?
                    .unwrap_or(f64::NEG_INFINITY),
                hi.as_ref().map(enc).transpose()?.unwrap_or(f64::INFINITY),
            ),
        };
        Ok(Filters {
            times: Some(times),
            z,
        })
    }

    /// The observations of `f` that pass the filters and can be placed (finite
    /// position and the coordinate the feature varies along).
    pub fn apply(&self, ft: FeatureType, f: &Feature) -> Vec<usize> {
        let tol = |v: f64| 1e-6 * v.abs().max(1.0);
        let time_ok = |t: f64| match &self.times {
            None => true,
            Some(TimeFilter::Interval(lo, hi)) => t >= *lo - tol(*lo) && t <= *hi + tol(*hi),
            Some(TimeFilter::Instants(ts)) => ts.iter().any(|v| (t - v).abs() <= tol(*v)),
        };
        // `z` values pick the feature's nearest level to each; an interval, a range.
        let levels: Option<Vec<f64>> = match &self.z {
            Some(ZSel::Values(vs)) => Some(
                vs.iter()
                    .filter_map(|v| {
                        f.z.iter()
                            .filter(|z| z.is_finite())
                            .min_by(|a, b| (*a - v).abs().total_cmp(&(*b - v).abs()))
                            .copied()
                    })
                    .collect(),
            ),
            _ => None,
        };
        let z_ok = |z: f64| match (&self.z, &levels) {
            (None, _) => true,
            (Some(ZSel::Interval(lo, hi)), _) => z >= *lo && z <= *hi,
            (_, Some(ls)) => ls.contains(&z),
            _ => false,
        };
        (0..f.len())
            .filter(|&k| {
                let placed = f.x(k).is_finite()
                    && f.y(k).is_finite()
                    && if ft.along_z() {
                        f.z(k).is_finite()
                    } else {
                        f.t(k).is_finite()
                    };
                placed && time_ok(f.t(k)) && z_ok(f.z(k))
            })
            .collect()
    }
}

/// The features with an observation that passes the filters and `keep` (a feature
/// left with no observation is dropped).
fn pick(index: &FeatureIndex, filters: &Filters, keep: impl Fn(f64, f64) -> bool) -> Vec<Picked> {
    let ft = index.schema.feature_type;
    index
        .features
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            // A feature standing at one place is tested once, not per observation.
            if f.x.len() == 1 && f.y.len() == 1 && !keep(f.x[0], f.y[0]) {
                return None;
            }
            let obs: Vec<usize> = filters
                .apply(ft, f)
                .into_iter()
                .filter(|&k| (f.x.len() == 1 && f.y.len() == 1) || keep(f.x(k), f.y(k)))
                .collect();
            (!obs.is_empty()).then_some(Picked { feature: i, obs })
        })
        .collect()
}

fn coords(params: &Params) -> EdrResult<Geometry> {
    let c = params
        .get("coords")
        .ok_or_else(|| EdrError::bad("coords is required (a WKT geometry)"))?;
    geometry::parse(c)
}

/// Runs query `q` over the index; `cancelled` is set when the client has gone away.
pub fn run(
    index: &FeatureIndex,
    q: &str,
    params: &Params,
    filters: &Filters,
    budget: &Budget<'_>,
) -> EdrResult<Vec<Picked>> {
    let obs = index.observations() as u64;
    let gone = |cancelled: &AtomicBool| cancelled.load(Ordering::Relaxed);
    let picked = match q {
        "position" => {
            params.only(&["coords"])?;
            let Geometry::Points(pts) = coords(params)? else {
                return Err(EdrError::bad(
                    "position: coords must be a POINT or MULTIPOINT",
                ));
            };
            budget.check("position", obs, pts.len() as u64)?;
            nearest_features(index, filters, &pts)
        }
        "radius" => {
            params.only(&["coords", "within", "within-units"])?;
            let Geometry::Points(pts) = coords(params)? else {
                return Err(EdrError::bad(
                    "radius: coords must be a POINT or MULTIPOINT",
                ));
            };
            let within = params
                .number("within")?
                .ok_or_else(|| EdrError::bad("radius: within is required"))?;
            let km = params::distance_km(within, params.get("within-units"), "within")?;
            budget.check("radius", obs, pts.len() as u64)?;
            pick(index, filters, |x, y| {
                !gone(budget.cancelled)
                    && pts
                        .iter()
                        .any(|p| geometry::distance_km(p.x, p.y, x, y) <= km)
            })
        }
        "area" => {
            params.only(&["coords"])?;
            let Geometry::Polygons(polys) = coords(params)? else {
                return Err(EdrError::bad(
                    "area: coords must be a POLYGON or MULTIPOLYGON",
                ));
            };
            let vertices = polys.iter().flatten().map(|r| r.len() as u64).sum();
            budget.check("area", obs, vertices)?;
            pick(index, filters, |x, y| {
                !gone(budget.cancelled) && polys.iter().any(|p| geometry::polygon_contains(p, x, y))
            })
        }
        "cube" => {
            params.only(&["bbox"])?;
            let bbox = params
                .get("bbox")
                .ok_or_else(|| EdrError::bad("cube: bbox is required"))?;
            let (w, s, e, n, zr) = params::parse_bbox(bbox)?;
            let mut f = filters.clone();
            if let Some((z0, z1)) = zr
                && f.z.is_none()
            {
                f.z = Some(ZSel::Interval(z0.min(z1), z0.max(z1)));
            }
            budget.check("cube", obs, 1)?;
            // West east of east: the box crosses the antimeridian.
            let in_lon = |x: f64| {
                if w <= e {
                    x >= w && x <= e
                } else {
                    x >= w || x <= e
                }
            };
            pick(index, &f, |x, y| in_lon(x) && y >= s && y <= n)
        }
        "corridor" => {
            params.only(&["coords", "corridor-width", "width-units"])?;
            let Geometry::Line(line) = coords(params)? else {
                return Err(EdrError::bad("corridor: coords must be a LINESTRING"));
            };
            let width = params
                .number("corridor-width")?
                .ok_or_else(|| EdrError::bad("corridor: corridor-width is required"))?;
            let half =
                params::distance_km(width, params.get("width-units"), "corridor-width")? / 2.0;
            budget.check("corridor", obs, line.len() as u64)?;
            pick(index, filters, |x, y| {
                !gone(budget.cancelled) && geometry::distance_to_line_km(&line, x, y) <= half
            })
        }
        _ => {
            return Err(EdrError::NotFound(format!(
                "no query {q:?} for an observation collection; queries: {}",
                super::collection::QUERIES.join(", ")
            )));
        }
    };
    if gone(budget.cancelled) {
        return Err(EdrError::Internal("client went away".into()));
    }
    Ok(picked)
}

/// Distance from `p` to the nearest placed observation of `f` (once for a feature
/// standing at one place).
fn distance(p: &Pos, f: &Feature) -> f64 {
    let n = if f.x.len() == 1 && f.y.len() == 1 {
        1
    } else {
        f.len()
    };
    (0..n)
        .map(|k| geometry::distance_km(p.x, p.y, f.x(k), f.y(k)))
        .filter(|d| d.is_finite())
        .fold(f64::INFINITY, f64::min)
}

/// For each point, the nearest feature (whole, filtered) that keeps an observation
/// through the filters.
fn nearest_features(index: &FeatureIndex, filters: &Filters, pts: &[Pos]) -> Vec<Picked> {
    let ft = index.schema.feature_type;
    let mut out: Vec<Picked> = Vec::new();
    for p in pts {
        let mut by_distance: Vec<(f64, usize)> = index
            .features
            .iter()
            .enumerate()
            .map(|(i, f)| (distance(p, f), i))
            .filter(|(d, _)| d.is_finite())
            .collect();
        by_distance.sort_by(|a, b| a.0.total_cmp(&b.0));
        let found = by_distance.into_iter().find_map(|(_, i)| {
            let obs = filters.apply(ft, &index.features[i]);
            (!obs.is_empty()).then_some(Picked { feature: i, obs })
        });
        if let Some(c) = found
            && !out.iter().any(|o| o.feature == c.feature)
        {
            out.push(c);
        }
    }
    out
}
