//! The layouts of CF appendix H and malformed files, over in-memory datasets.

use super::testing::*;
use super::*;
use crate::model::{Array, ArrayValues};

#[tokio::test]
async fn orthogonal_time_series() {
    let m = stations();
    let idx = build_index(&m, &m.meta).await.unwrap();
    assert_eq!(idx.schema.layout, Layout::Multidimensional);
    let ids: Vec<&str> = idx.features.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["A", "B", "C"]);
    let c = idx.feature("C").unwrap();
    assert!(c.is_fixed());
    assert_eq!(
        c.bbox,
        (-10.0, 30.0, -10.0, 30.0),
        "longitudes in -180..180"
    );
    assert_eq!(c.t, [0.0, 1.0, 2.0, 3.0]);
    assert_eq!(c.x, [-10.0], "a station's position is stored once");
    assert_eq!(c.track(100), [[-10.0, 30.0]]);
    assert_eq!((c.x(3), c.y(3), c.z(3).is_nan()), (-10.0, 30.0, true));
    assert_eq!(idx.iso(2.0).unwrap(), "2020-01-03T00:00:00Z");
    let temp = &idx.schema.data[0];
    assert_eq!(temp.name, "temp");
    let v = read_observations(&m, &idx, c, temp, &[0, 3]).await.unwrap();
    assert_eq!(v, [8.0, 11.0]);
    assert_eq!(idx.time_span(), Some((0.0, 3.0)));
}

#[tokio::test]
async fn incomplete_multidimensional_trajectory() {
    // time(trajectory, obs) padded with fill values; data stored (obs, trajectory).
    let m = Mem::new("trajectory")
        .dim("trajectory", 2)
        .dim("obs", 3)
        .var(
            "trajectory",
            &["trajectory"],
            ArrayValues::I32(vec![7, 8]),
            &[("cf_role", "trajectory_id")],
        )
        .var(
            "time",
            &["trajectory", "obs"],
            f64s(&[0.0, 1.0, 2.0, 5.0, -999.0, -999.0]),
            TIME,
        )
        .fill("time", -999.0)
        .var(
            "lat",
            &["trajectory", "obs"],
            f64s(&[0.0, 1.0, 2.0, 9.0, 0.0, 0.0]),
            LAT,
        )
        .var(
            "lon",
            &["trajectory", "obs"],
            f64s(&[0.0, 1.0, 2.0, 9.0, 0.0, 0.0]),
            LON,
        )
        .var(
            "temp",
            &["obs", "trajectory"],
            f64s(&[1.0, 10.0, 2.0, 20.0, 3.0, 30.0]),
            &[],
        );
    let idx = build_index(&m, &m.meta).await.unwrap();
    let f8 = idx.feature("8").unwrap();
    assert_eq!(f8.rows, [0], "fill elements are not observations");
    let f7 = idx.feature("7").unwrap();
    assert_eq!(f7.bbox, (0.0, 0.0, 2.0, 2.0));
    let temp = &idx.schema.data[0];
    assert_eq!(
        read_observations(&m, &idx, f7, temp, &[0, 1, 2])
            .await
            .unwrap(),
        [1.0, 2.0, 3.0]
    );
    assert_eq!(
        read_observations(&m, &idx, f8, temp, &[0]).await.unwrap(),
        [10.0]
    );
}

#[tokio::test]
async fn contiguous_ragged_profiles() {
    let m = profiles(&[3, 2]);
    let idx = build_index(&m, &m.meta).await.unwrap();
    assert!(matches!(idx.schema.layout, Layout::ContiguousRagged { .. }));
    let p = idx.feature("102").unwrap();
    assert_eq!(p.rows, [3, 4]);
    assert_eq!(p.z, [0.0, 5.0]);
    assert_eq!(
        (p.t.len(), p.t(1)),
        (1, 11.0),
        "a profile's time is stored once"
    );
    assert_eq!(p.time_span, Some((11.0, 11.0)));
    assert_eq!(idx.levels, [0.0, 5.0, 10.0, 20.0]);
    let salt = idx.schema.data.iter().find(|v| v.name == "salt").unwrap();
    assert_eq!(
        read_observations(&m, &idx, p, salt, &[1]).await.unwrap(),
        [36.1]
    );
    assert_eq!(
        idx.schema.data.len(),
        1,
        "count, coordinates and ids are not data"
    );
}

#[tokio::test]
async fn indexed_ragged_trajectories() {
    let m = tracks(&[0, 1, 0, 1, 0]);
    let idx = build_index(&m, &m.meta).await.unwrap();
    let g1 = idx.feature("g1").unwrap();
    assert_eq!(g1.rows, [0, 2, 4]);
    assert_eq!(g1.y, [0.0, 1.0, 2.0]);
    assert!(!g1.is_fixed());
    assert_eq!(g1.track(10), [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]);
    assert_eq!(g1.track(2), [[0.0, 0.0], [2.0, 2.0]], "thinned, ends kept");
    assert_eq!(idx.feature("g2").unwrap().track(1).len(), 2);
    let temp = &idx.schema.data[0];
    assert_eq!(
        read_observations(&m, &idx, g1, temp, &[0, 2])
            .await
            .unwrap(),
        [1.0, 5.0]
    );
    assert_eq!(idx.observations(), 5);
}

#[tokio::test]
async fn flat_points_and_single_feature() {
    let m = Mem::new("point")
        .dim("obs", 3)
        .var("time", &["obs"], f64s(&[0.0, 1.0, 2.0]), TIME)
        .var("lat", &["obs"], f64s(&[1.0, 2.0, 3.0]), LAT)
        .var("lon", &["obs"], f64s(&[1.0, 2.0, 3.0]), LON);
    let idx = build_index(&m, &m.meta).await.unwrap();
    assert_eq!(idx.features.len(), 3);
    assert_eq!(idx.features[2].id, "2");
    let one = Mem::new("trajectory")
        .dim("obs", 2)
        .var(
            "trajectory",
            &[],
            ArrayValues::I32(vec![5]),
            &[("cf_role", "trajectory_id")],
        )
        .var("time", &["obs"], f64s(&[0.0, 1.0]), TIME)
        .var("lat", &["obs"], f64s(&[1.0, 2.0]), LAT)
        .var("lon", &["obs"], f64s(&[1.0, 2.0]), LON);
    let idx = build_index(&one, &one.meta).await.unwrap();
    assert_eq!(idx.schema.layout, Layout::Flat);
    assert_eq!(idx.features[0].id, "5");
    assert_eq!(idx.features[0].rows, [0, 1]);
}

async fn error_of(m: Mem) -> String {
    build_index(&m, &m.meta).await.unwrap_err().to_string()
}

#[tokio::test]
async fn malformed_files_are_errors() {
    assert!(
        error_of(profiles(&[3, 3]))
            .await
            .contains("add up to more than")
    );
    assert!(error_of(profiles(&[1, 2])).await.contains("add up to 3"));
    assert!(
        error_of(profiles(&[-1, 6]))
            .await
            .contains("negative count")
    );
    assert!(
        error_of(tracks(&[0, 1, 2, 1, 0]))
            .await
            .contains("names feature 2")
    );
    assert!(
        error_of(tracks(&[0, 1, -5, 1, 0]))
            .await
            .contains("names feature -5")
    );
    let mut m = stations();
    m.meta.root.variables[0].attributes.clear();
    assert!(error_of(m).await.contains("cf_role"));
    let mut m = stations();
    m.arrays.insert(
        "/station_name".into(),
        Array::new(vec![3, 8], chars(&["A", "A", "C"], 8)),
    );
    assert!(error_of(m).await.contains("names two features"));
    let mut m = stations();
    m.meta.root.variables.retain(|v| v.name != "lat");
    assert!(error_of(m).await.contains("latitude"));
    let mut m = stations();
    m.meta.root.attributes.clear();
    assert!(!is_dsg(&m.meta));
    assert!(error_of(m).await.contains("featureType"));
    // Declared sizes are checked before anything is read.
    let big = Mem::new("point")
        .dim("obs", MAX_FEATURES + 1)
        .var("time", &["obs"], f64s(&[]), TIME)
        .var("lat", &["obs"], f64s(&[]), LAT)
        .var("lon", &["obs"], f64s(&[]), LON);
    assert!(error_of(big).await.contains("too large"));
    assert!(
        !is_dsg(&Mem::new("grid").meta),
        "featureType = grid stays a grid"
    );
    assert!(is_dsg(&Mem::new("Trajectory").meta));
    let m = Mem::new("timeSeriesProfile");
    assert!(is_dsg(&m.meta), "served as features");
    assert!(error_of(m).await.contains("cf_role = \"timeseries_id\""));
    // A sample_dimension naming no dimension.
    let mut m = profiles(&[3, 2]);
    let rs = m
        .meta
        .root
        .variables
        .iter_mut()
        .find(|v| v.name == "row_size")
        .unwrap();
    rs.attributes = vec![text("sample_dimension", "nope")];
    assert!(error_of(m).await.contains("names no dimension"));
}

#[tokio::test]
async fn station_profiles_multidimensional() {
    let m = station_profiles();
    let idx = build_index(&m, &m.meta).await.unwrap();
    assert_eq!(idx.schema.layout, Layout::NestedMultidimensional);
    assert_eq!(idx.schema.feature_type, FeatureType::TimeSeriesProfile);
    let a = idx.feature("A").unwrap();
    assert_eq!(a.x, [1.0], "a station's position is stored once");
    assert_eq!(a.rows, [0, 1, 2, 3, 4, 5]);
    assert_eq!(a.t, [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]);
    assert_eq!(a.z, [0.0, 10.0, 0.0, 10.0, 0.0, 10.0]);
    assert_eq!(a.track(10), [[1.0, 10.0]]);
    // B's profiles in time order, its absent third profile skipped.
    let b = idx.feature("B").unwrap();
    let order: Vec<u32> = b.profiles.iter().map(|p| p.index).collect();
    assert_eq!(order, [1, 0]);
    assert_eq!(b.t, [4.0, 4.0, 5.0, 5.0]);
    assert_eq!(b.time_span, Some((4.0, 5.0)));
    assert_eq!(b.profile_of(3).unwrap().index, 0);
    let temp = &idx.schema.data[0];
    assert_eq!(temp.name, "temp");
    // temp[1, p, z] = 6 + 2p + z.
    let v = read_observations(&m, &idx, b, temp, &[0, 1, 2, 3])
        .await
        .unwrap();
    assert_eq!(v, [8.0, 9.0, 6.0, 7.0]);
    let z = idx.schema.z.clone().unwrap();
    assert_eq!(
        read_observations(&m, &idx, b, &z, &[1, 2]).await.unwrap(),
        [10.0, 0.0]
    );
    let t = idx.schema.t.clone().unwrap();
    assert_eq!(
        read_observations(&m, &idx, b, &t, &[0, 3]).await.unwrap(),
        [4.0, 5.0]
    );
    assert_eq!(idx.levels, [0.0, 10.0]);
}

#[tokio::test]
async fn trajectory_profiles_ragged() {
    let m = track_profiles(&[2, 1, 3], &[0, 1, 0]);
    let idx = build_index(&m, &m.meta).await.unwrap();
    assert!(matches!(idx.schema.layout, Layout::NestedRagged { .. }));
    let t1 = idx.feature("T1").unwrap();
    // Profiles 2 (time 0) then 0 (time 2).
    assert_eq!(t1.rows, [3, 4, 5, 0, 1]);
    assert_eq!(t1.t, [0.0, 0.0, 0.0, 2.0, 2.0]);
    assert_eq!(t1.track(10), [[1.0, 1.0], [0.0, 0.0]]);
    assert!(!t1.is_fixed());
    let temp = &idx.schema.data[0];
    assert_eq!(
        read_observations(&m, &idx, t1, temp, &[0, 2, 3])
            .await
            .unwrap(),
        [4.0, 6.0, 1.0]
    );
    let lat = idx.schema.y.clone();
    assert_eq!(
        read_observations(&m, &idx, t1, &lat, &[4, 0])
            .await
            .unwrap(),
        [0.0, 1.0]
    );
    assert_eq!(idx.feature("T2").unwrap().rows, [2]);
}

#[tokio::test]
async fn malformed_two_level_files_are_errors() {
    let m = track_profiles(&[2, 1, 4], &[0, 1, 0]);
    let e = build_index(&m, &m.meta).await.unwrap_err();
    assert!(e.to_string().contains("add up to more"), "{e}");
    let m = track_profiles(&[2, 1, 2], &[0, 1, 0]);
    let e = build_index(&m, &m.meta).await.unwrap_err();
    assert!(e.to_string().contains("add up to 5"), "{e}");
    let m = track_profiles(&[2, 1, 3], &[0, 7, 0]);
    let e = build_index(&m, &m.meta).await.unwrap_err();
    assert!(e.to_string().contains("names instance 7"), "{e}");
    let mut m = track_profiles(&[2, 1, 3], &[0, 1, 0]);
    m.meta
        .root
        .variables
        .retain(|v| v.name != "trajectory_index");
    let e = build_index(&m, &m.meta).await.unwrap_err();
    assert!(e.to_string().contains("index variable"), "{e}");
    let mut m = station_profiles();
    m.meta.root.variables[0].attributes.clear();
    let e = build_index(&m, &m.meta).await.unwrap_err();
    assert!(matches!(e, DsgError::MissingCfRole("timeseries_id")), "{e}");
}

#[tokio::test]
async fn union_of_files_reads_each_feature_from_its_member() {
    use std::sync::Arc;
    let a = Arc::new(tracks(&[0, 1, 0, 1, 0]));
    // The second file: the same ids, times in hours.
    let mut b = tracks(&[0, 0, 1, 1, 1]);
    if let crate::model::ArrayValues::F64(t) = &mut b.arrays.get_mut("/time").unwrap().values {
        t.iter_mut().for_each(|v| *v *= 24.0);
    }
    let time = b
        .meta
        .root
        .variables
        .iter_mut()
        .find(|v| v.name == "time")
        .unwrap();
    time.attributes = vec![
        text("standard_name", "time"),
        text("units", "hours since 2020-01-01"),
    ];
    let b = Arc::new(b);
    let (ia, ib) = (
        Arc::new(build_index(&*a, &a.meta).await.unwrap()),
        Arc::new(build_index(&*b, &b.meta).await.unwrap()),
    );
    let u = union(vec![
        UnionMember {
            index: ia,
            source: a.clone(),
        },
        UnionMember {
            index: ib,
            source: b.clone(),
        },
    ])
    .unwrap();
    let ids: Vec<&str> = u.features.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["g1", "g2", "g1~2", "g2~2"]);
    let g2b = u.feature("g2~2").unwrap();
    assert_eq!(g2b.member, 1);
    assert_eq!(g2b.t, [1.0, 1.0, 2.0], "times in the first member's units");
    let temp = u.schema.data[0].clone();
    // Read from the second file (not the first, whose rows 2..4 differ).
    let v = read_observations(&*a, &u, g2b, &temp, &[0, 1, 2])
        .await
        .unwrap();
    assert_eq!(v, [3.0, 4.0, 5.0]);
    assert_eq!(u.time_span(), Some((0.0, 2.0)));
    let p = Arc::new(profiles(&[3, 2]));
    let ip = Arc::new(build_index(&*p, &p.meta).await.unwrap());
    let ia = Arc::new(build_index(&*a, &a.meta).await.unwrap());
    let e = union(vec![
        UnionMember {
            index: ia,
            source: a,
        },
        UnionMember {
            index: ip,
            source: p,
        },
    ])
    .unwrap_err();
    assert!(e.to_string().contains("profile file"), "{e}");
}

#[tokio::test]
async fn one_station_of_profiles() {
    let m = one_station_profiles();
    let idx = build_index(&m, &m.meta).await.unwrap();
    assert_eq!(idx.schema.layout, Layout::NestedMultidimensional);
    assert!(idx.schema.instance_dim.is_none());
    let s = idx.feature("S").unwrap();
    let order: Vec<u32> = s.profiles.iter().map(|p| p.index).collect();
    assert_eq!(order, [1, 2, 0], "profiles in time order");
    assert_eq!((s.x.as_slice(), s.y.as_slice()), (&[1.0][..], &[10.0][..]));
    let temp = &idx.schema.data[0];
    // temp[p, z] = 2p + z: profile 1 then 2 then 0.
    let v = read_observations(&m, &idx, s, temp, &[0, 1, 2, 3, 4, 5])
        .await
        .unwrap();
    assert_eq!(v, [2.0, 3.0, 4.0, 5.0, 0.0, 1.0]);
}
