//! In-memory DSG datasets for tests (here and in the protocols' sequence and query
//! tests): a metadata builder with the arrays behind it, and the three layouts used
//! throughout.

use std::collections::HashMap;

use async_trait::async_trait;

use super::ArraySource;
use crate::model::{
    Array, ArrayValues, AttrValue, Attribute, DatasetMeta, DimRef, Dimension, Group, Variable,
};
use crate::readers::ReadError;
use crate::subset::Hyperslab;

#[derive(Default)]
pub struct Mem {
    pub meta: DatasetMeta,
    pub arrays: HashMap<String, Array>,
}

pub fn text(name: &str, value: &str) -> Attribute {
    Attribute::new(name, AttrValue::Text(value.into()))
}

impl Mem {
    pub fn new(feature_type: &str) -> Mem {
        let mut m = Mem {
            meta: DatasetMeta {
                root: Group {
                    path: "/".into(),
                    ..Default::default()
                },
            },
            ..Default::default()
        };
        m.meta
            .root
            .attributes
            .push(text("featureType", feature_type));
        m
    }

    pub fn dim(mut self, name: &str, len: usize) -> Mem {
        self.meta.root.dimensions.push(Dimension {
            name: name.into(),
            path: format!("/{name}"),
            len,
            unlimited: false,
        });
        self
    }

    pub fn var(
        mut self,
        name: &str,
        dims: &[&str],
        values: ArrayValues,
        attrs: &[(&str, &str)],
    ) -> Mem {
        let dims: Vec<DimRef> = dims
            .iter()
            .map(|d| {
                let dim = self
                    .meta
                    .root
                    .dimensions
                    .iter()
                    .find(|x| x.name == *d)
                    .unwrap();
                DimRef {
                    name: dim.name.clone(),
                    path: dim.path.clone(),
                    len: dim.len,
                }
            })
            .collect();
        let shape: Vec<usize> = dims.iter().map(|d| d.len).collect();
        let dtype = values.dtype();
        self.meta.root.variables.push(Variable {
            name: name.into(),
            path: format!("/{name}"),
            dims,
            dtype,
            attributes: attrs.iter().map(|(k, v)| text(k, v)).collect(),
            chunks: None,
        });
        // No values: metadata only (for files refused before any read).
        if !values.is_empty() {
            self.arrays
                .insert(format!("/{name}"), Array::new(shape, values));
        }
        self
    }

    pub fn fill(mut self, name: &str, fill: f64) -> Mem {
        let v = self
            .meta
            .root
            .variables
            .iter_mut()
            .find(|v| v.name == name)
            .unwrap();
        v.attributes
            .push(Attribute::new("_FillValue", AttrValue::F64(vec![fill])));
        self
    }
}

#[async_trait]
impl ArraySource for Mem {
    async fn read_array(&self, path: &str, slab: &Hyperslab) -> Result<Array, ReadError> {
        let a = self
            .arrays
            .get(path)
            .ok_or_else(|| ReadError::NoSuchVariable(path.into()))?;
        slab.validate(&a.shape)?;
        let idx = slab.linear_indices(&a.shape);
        let values = match &a.values {
            ArrayValues::F64(v) => ArrayValues::F64(idx.iter().map(|&i| v[i]).collect()),
            ArrayValues::I32(v) => ArrayValues::I32(idx.iter().map(|&i| v[i]).collect()),
            ArrayValues::Char(v) => ArrayValues::Char(idx.iter().map(|&i| v[i]).collect()),
            ArrayValues::Str(v) => ArrayValues::Str(idx.iter().map(|&i| v[i].clone()).collect()),
            other => panic!("test source: {:?}", other.dtype()),
        };
        Ok(Array::new(slab.shape(), values))
    }
}

pub const LAT: &[(&str, &str)] = &[("standard_name", "latitude"), ("units", "degrees_north")];
pub const LON: &[(&str, &str)] = &[("standard_name", "longitude"), ("units", "degrees_east")];
pub const TIME: &[(&str, &str)] = &[
    ("standard_name", "time"),
    ("units", "days since 2020-01-01"),
];
pub const DEPTH: &[(&str, &str)] = &[
    ("standard_name", "depth"),
    ("units", "m"),
    ("positive", "down"),
];

pub fn f64s(v: &[f64]) -> ArrayValues {
    ArrayValues::F64(v.to_vec())
}

pub fn chars(ids: &[&str], width: usize) -> ArrayValues {
    let mut out = Vec::new();
    for id in ids {
        let mut b = id.as_bytes().to_vec();
        b.resize(width, 0);
        out.extend(b);
    }
    ArrayValues::Char(out)
}

/// Orthogonal multidimensional: 3 stations × 4 times, temp(station, time).
pub fn stations() -> Mem {
    let temp: Vec<f64> = (0..12).map(|k| k as f64).collect();
    Mem::new("timeSeries")
        .dim("station", 3)
        .dim("time", 4)
        .dim("name_strlen", 8)
        .var(
            "station_name",
            &["station", "name_strlen"],
            chars(&["A", "B", "C"], 8),
            &[("cf_role", "timeseries_id")],
        )
        .var("lat", &["station"], f64s(&[10.0, 20.0, 30.0]), LAT)
        .var("lon", &["station"], f64s(&[-5.0, 5.0, 350.0]), LON)
        .var("time", &["time"], f64s(&[0.0, 1.0, 2.0, 3.0]), TIME)
        .var("temp", &["station", "time"], f64s(&temp), &[("units", "K")])
}

/// Contiguous ragged: 2 profiles of 3 and 2 levels.
pub fn profiles(counts: &[i32]) -> Mem {
    Mem::new("profile")
        .dim("profile", 2)
        .dim("obs", 5)
        .var(
            "profile_id",
            &["profile"],
            ArrayValues::I32(vec![101, 102]),
            &[("cf_role", "profile_id")],
        )
        .var("lat", &["profile"], f64s(&[40.0, 41.0]), LAT)
        .var("lon", &["profile"], f64s(&[1.0, 2.0]), LON)
        .var("time", &["profile"], f64s(&[10.0, 11.0]), TIME)
        .var(
            "row_size",
            &["profile"],
            ArrayValues::I32(counts.to_vec()),
            &[("sample_dimension", "obs")],
        )
        .var("depth", &["obs"], f64s(&[0.0, 10.0, 20.0, 0.0, 5.0]), DEPTH)
        .var("salt", &["obs"], f64s(&[35.0, 35.1, 35.2, 36.0, 36.1]), &[])
}

/// Indexed ragged: 2 trajectories, observations interleaved.
pub fn tracks(index: &[i32]) -> Mem {
    Mem::new("trajectory")
        .dim("trajectory", 2)
        .dim("obs", 5)
        .var(
            "trajectory",
            &["trajectory"],
            ArrayValues::Str(vec!["g1".into(), "g2".into()]),
            &[("cf_role", "trajectory_id")],
        )
        .var(
            "traj_index",
            &["obs"],
            ArrayValues::I32(index.to_vec()),
            &[("instance_dimension", "trajectory")],
        )
        .var("time", &["obs"], f64s(&[0.0, 0.0, 1.0, 1.0, 2.0]), TIME)
        .var("lat", &["obs"], f64s(&[0.0, 50.0, 1.0, 51.0, 2.0]), LAT)
        .var("lon", &["obs"], f64s(&[0.0, 10.0, 1.0, 11.0, 2.0]), LON)
        .var("temp", &["obs"], f64s(&[1.0, 2.0, 3.0, 4.0, 5.0]), &[])
}

/// timeSeriesProfile, multidimensional: 2 stations × 3 profiles × 2 levels, z(z),
/// time(station, profile) with station B's last profile absent (fill).
pub fn station_profiles() -> Mem {
    let temp: Vec<f64> = (0..12).map(|k| k as f64).collect();
    Mem::new("timeSeriesProfile")
        .dim("station", 2)
        .dim("profile", 3)
        .dim("z", 2)
        .dim("name_strlen", 4)
        .var(
            "station_name",
            &["station", "name_strlen"],
            chars(&["A", "B"], 4),
            &[("cf_role", "timeseries_id")],
        )
        .var("lat", &["station"], f64s(&[10.0, 20.0]), LAT)
        .var("lon", &["station"], f64s(&[1.0, 2.0]), LON)
        .var(
            "time",
            &["station", "profile"],
            f64s(&[0.0, 1.0, 2.0, 5.0, 4.0, -999.0]),
            TIME,
        )
        .fill("time", -999.0)
        .var("z", &["z"], f64s(&[0.0, 10.0]), DEPTH)
        .var("temp", &["station", "profile", "z"], f64s(&temp), &[])
}

/// trajectoryProfile, ragged: 2 trajectories, 3 profiles of 2, 1 and 3 levels.
pub fn track_profiles(counts: &[i32], index: &[i32]) -> Mem {
    Mem::new("trajectoryProfile")
        .dim("trajectory", 2)
        .dim("profile", 3)
        .dim("obs", 6)
        .var(
            "trajectory",
            &["trajectory"],
            ArrayValues::Str(vec!["T1".into(), "T2".into()]),
            &[("cf_role", "trajectory_id")],
        )
        .var(
            "trajectory_index",
            &["profile"],
            ArrayValues::I32(index.to_vec()),
            &[("instance_dimension", "trajectory")],
        )
        .var(
            "row_size",
            &["profile"],
            ArrayValues::I32(counts.to_vec()),
            &[("sample_dimension", "obs")],
        )
        .var("time", &["profile"], f64s(&[2.0, 1.0, 0.0]), TIME)
        .var("lat", &["profile"], f64s(&[0.0, 50.0, 1.0]), LAT)
        .var("lon", &["profile"], f64s(&[0.0, 10.0, 1.0]), LON)
        .var("z", &["obs"], f64s(&[0.0, 5.0, 0.0, 0.0, 5.0, 10.0]), DEPTH)
        .var("temp", &["obs"], f64s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), &[])
}

/// timeSeriesProfile of one station (scalar id, CF H.5.2): temp(profile, z).
pub fn one_station_profiles() -> Mem {
    let temp: Vec<f64> = (0..6).map(|k| k as f64).collect();
    Mem::new("timeSeriesProfile")
        .dim("profile", 3)
        .dim("z", 2)
        .dim("name_strlen", 4)
        .var(
            "station_name",
            &["name_strlen"],
            chars(&["S"], 4),
            &[("cf_role", "timeseries_id")],
        )
        .var("lat", &[], f64s(&[10.0]), LAT)
        .var("lon", &[], f64s(&[1.0]), LON)
        .var("time", &["profile"], f64s(&[2.0, 0.0, 1.0]), TIME)
        .var("z", &["z"], f64s(&[0.0, 10.0]), DEPTH)
        .var("temp", &["profile", "z"], f64s(&temp), &[])
}
