//! Observation datasets: CF discrete sampling geometries (CF appendix H). A DSG file
//! is read once into a [`FeatureIndex`]: every feature (station series, profile,
//! trajectory, point) with its id (the `cf_role` variable), where its observations lie
//! in the file, and their coordinates, so that spatial and time queries never touch
//! the file and a feature's data is one small read. Knows no protocol.

mod build;
mod coords;
mod detect;
mod error;
mod nested;
mod read;
mod schema;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
mod union;

use async_trait::async_trait;

pub use build::{MAX_FEATURES, MAX_OBSERVATIONS, build_index, build_index_off_the_workers};
pub use detect::detect;
pub use error::DsgError;
pub use read::read_observations;
pub use schema::{Layout, Level, Schema, is_dsg};
pub use union::{UnionMember, union};

use crate::model::Array;
use crate::model::cf::TimeUnits;
use crate::readers::ReadError;
use crate::subset::Hyperslab;

/// Where the feature model reads arrays from (an opened dataset, or memory in tests).
#[async_trait]
pub trait ArraySource: Send + Sync {
    async fn read_array(&self, path: &str, slab: &Hyperslab) -> Result<Array, ReadError>;
}

/// The CF `featureType`s served as features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureType {
    Point,
    TimeSeries,
    Profile,
    Trajectory,
    /// Profiles taken at stations (CF H.5): a feature per station.
    TimeSeriesProfile,
    /// Profiles taken along trajectories (CF H.6): a feature per trajectory.
    TrajectoryProfile,
}

impl FeatureType {
    pub fn parse(s: &str) -> Option<FeatureType> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "point" => FeatureType::Point,
            "timeseries" => FeatureType::TimeSeries,
            "profile" => FeatureType::Profile,
            "trajectory" => FeatureType::Trajectory,
            "timeseriesprofile" => FeatureType::TimeSeriesProfile,
            "trajectoryprofile" => FeatureType::TrajectoryProfile,
            _ => return None,
        })
    }

    /// The CF spelling.
    pub fn name(self) -> &'static str {
        match self {
            FeatureType::Point => "point",
            FeatureType::TimeSeries => "timeSeries",
            FeatureType::Profile => "profile",
            FeatureType::Trajectory => "trajectory",
            FeatureType::TimeSeriesProfile => "timeSeriesProfile",
            FeatureType::TrajectoryProfile => "trajectoryProfile",
        }
    }

    /// Two levels: each feature (station, trajectory) holds profiles.
    pub fn is_nested(self) -> bool {
        matches!(
            self,
            FeatureType::TimeSeriesProfile | FeatureType::TrajectoryProfile
        )
    }

    /// Its observations are placed by their vertical coordinate (profiles), not time.
    pub fn along_z(self) -> bool {
        self == FeatureType::Profile || self.is_nested()
    }

    /// The `cf_role` value naming features of this type.
    pub fn cf_role(self) -> Option<&'static str> {
        match self {
            FeatureType::Point => None,
            FeatureType::TimeSeries => Some("timeseries_id"),
            FeatureType::Profile => Some("profile_id"),
            FeatureType::Trajectory | FeatureType::TrajectoryProfile => Some("trajectory_id"),
            FeatureType::TimeSeriesProfile => Some("timeseries_id"),
        }
    }
}

/// One feature and the coordinates of its observations (physical values; time in the
/// time variable's units, NaN where absent). A coordinate given once per feature (a
/// station's position, a profile's time) is stored once: a list of one value applies
/// to every observation, an empty list means the file has no such coordinate. Read
/// them with `x(k)`, `y(k)`, `t(k)`, `z(k)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub id: String,
    /// Its index along the instance dimension (0 for a file of one feature).
    pub instance: usize,
    /// Where each observation is along the observation dimension: the element index
    /// (multidimensional layouts) or the sample index (ragged and flat layouts).
    pub rows: Vec<u32>,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub t: Vec<f64>,
    pub z: Vec<f64>,
    /// (west, south, east, north) of its observations.
    pub bbox: (f64, f64, f64, f64),
    /// First and last time, in the time variable's units.
    pub time_span: Option<(f64, f64)>,
    /// The profiles of a two-level feature (timeSeriesProfile, trajectoryProfile) in
    /// time order, each a run of its observations; empty for other types.
    pub profiles: Vec<ProfileRef>,
    /// In a union of files (`union`), the member holding it; 0 otherwise.
    pub member: u32,
}

/// One profile of a two-level feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileRef {
    /// Its index along the profile dimension.
    pub index: u32,
    /// Its first observation, as an index into the feature's coordinate lists.
    pub start: u32,
}

/// Value `k` of a coordinate list (see `Feature`).
fn at(values: &[f64], k: usize) -> f64 {
    match values {
        [one] => *one,
        many => many.get(k).copied().unwrap_or(f64::NAN),
    }
}

impl Feature {
    pub fn x(&self, k: usize) -> f64 {
        at(&self.x, k)
    }

    pub fn y(&self, k: usize) -> f64 {
        at(&self.y, k)
    }

    pub fn t(&self, k: usize) -> f64 {
        at(&self.t, k)
    }

    pub fn z(&self, k: usize) -> f64 {
        at(&self.z, k)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The profile holding observation `k` (two-level features).
    pub fn profile_of(&self, k: usize) -> Option<ProfileRef> {
        let i = self.profiles.partition_point(|p| p.start as usize <= k);
        self.profiles.get(i.checked_sub(1)?).copied()
    }

    /// Its positions in order (one for a feature at one place), at most `max` of them:
    /// a longer track is thinned evenly, its first and last positions kept. A
    /// two-level feature's track passes once through each profile's position.
    pub fn track(&self, max: usize) -> Vec<[f64; 2]> {
        let n = if self.x.len() == 1 && self.y.len() == 1 {
            1
        } else {
            self.len()
        };
        let mut placed: Vec<[f64; 2]> = (0..n)
            .map(|k| [self.x(k), self.y(k)])
            .filter(|p| p[0].is_finite() && p[1].is_finite())
            .collect();
        if !self.profiles.is_empty() {
            placed.dedup();
        }
        let max = max.max(2);
        if placed.len() <= max {
            return placed;
        }
        let last = placed.len() - 1;
        (0..max).map(|i| placed[i * last / (max - 1)]).collect()
    }

    /// A station or profile stands at one place; a trajectory moves.
    pub fn is_fixed(&self) -> bool {
        self.bbox.0 == self.bbox.2 && self.bbox.1 == self.bbox.3
    }
}

/// Every feature of a dataset version, built once (see `build_index`).
#[derive(Debug, Clone)]
pub struct FeatureIndex {
    pub schema: Schema,
    pub time_units: Option<TimeUnits>,
    pub features: Vec<Feature>,
    /// The distinct vertical coordinate values, ascending (computed once: collection
    /// descriptions list them).
    pub levels: Vec<f64>,
    /// A union of files: each member's index and source, where its features' values
    /// are read (empty for one file).
    pub members: Vec<UnionMember>,
}

impl FeatureIndex {
    pub fn feature(&self, id: &str) -> Option<&Feature> {
        self.features.iter().find(|f| f.id == id)
    }

    pub fn observations(&self) -> usize {
        self.features.iter().map(Feature::len).sum()
    }

    /// (west, south, east, north) of all features.
    pub fn bbox(&self) -> Option<(f64, f64, f64, f64)> {
        self.features
            .iter()
            .filter(|f| !f.is_empty())
            .map(|f| f.bbox)
            .reduce(|a, b| (a.0.min(b.0), a.1.min(b.1), a.2.max(b.2), a.3.max(b.3)))
    }

    /// First and last time of all features, in the time variable's units.
    pub fn time_span(&self) -> Option<(f64, f64)> {
        self.features
            .iter()
            .filter_map(|f| f.time_span)
            .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
    }

    /// ISO 8601 text of a time value.
    pub fn iso(&self, t: f64) -> Option<String> {
        self.time_units.as_ref()?.decode(t).map(|d| d.to_iso())
    }
}

impl crate::cache::Weight for FeatureIndex {
    fn weight(&self) -> usize {
        self.features
            .iter()
            .map(|f| {
                let coords = f.x.len() + f.y.len() + f.t.len() + f.z.len();
                128 + f.id.len() + f.rows.len() * 4 + coords * 8 + f.profiles.len() * 8
            })
            .fold(4096 + self.levels.len() * 8, usize::saturating_add)
    }
}
