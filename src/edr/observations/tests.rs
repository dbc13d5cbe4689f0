//! The observation queries over in-memory DSG datasets.

use std::sync::atomic::AtomicBool;

use super::select::*;
use crate::config::LimitsConfig;
use crate::edr::error::EdrResult;
use crate::edr::params::Params;
use crate::edr::query::Budget;
use crate::features::build_index;
use crate::features::testing::{Mem, profiles, station_profiles, stations, track_profiles, tracks};

async fn run_on(
    m: &Mem,
    q: &str,
    query: &str,
    limits: &LimitsConfig,
) -> EdrResult<Vec<(String, Vec<usize>)>> {
    let index = build_index(m, &m.meta).await.unwrap();
    let params = Params::parse(Some(query));
    let filters = Filters::parse(&index, &params)?;
    let cancelled = AtomicBool::new(false);
    let budget = Budget {
        limits,
        cancelled: &cancelled,
    };
    let picked = run(&index, q, &params, &filters, &budget)?;
    Ok(picked
        .into_iter()
        .map(|p| (index.features[p.feature].id.clone(), p.obs))
        .collect())
}

#[tokio::test]
async fn queries_pick_features_and_observations() {
    let l = LimitsConfig::default();
    // Stations A (10N 5W), B (20N 5E), C (30N 10W, stored as 350E).
    let got = run_on(&stations(), "position", "coords=POINT(4 19)", &l)
        .await
        .unwrap();
    assert_eq!(got, [("B".to_string(), vec![0, 1, 2, 3])]);
    let got = run_on(
        &stations(),
        "position",
        "coords=POINT(-9 29)&datetime=2020-01-02/2020-01-03",
        &l,
    )
    .await
    .unwrap();
    assert_eq!(
        got,
        [("C".to_string(), vec![1, 2])],
        "longitudes compared in -180..180"
    );
    let got = run_on(
        &stations(),
        "radius",
        "coords=POINT(0 15)&within=900&within-units=km",
        &l,
    )
    .await
    .unwrap();
    let ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["A", "B"]);
    let got = run_on(&profiles(&[3, 2]), "cube", "bbox=0,39,1.5,42&z=5/30", &l)
        .await
        .unwrap();
    assert_eq!(got, [("101".to_string(), vec![1, 2])]);
    let got = run_on(
        &profiles(&[3, 2]),
        "area",
        "coords=POLYGON((1.5 40,3 40,3 42,1.5 42,1.5 40))&z=4",
        &l,
    )
    .await
    .unwrap();
    assert_eq!(
        got,
        [("102".to_string(), vec![1])],
        "z values pick the nearest level"
    );
    // Track g1 runs (0,0) (1,1) (2,2); g2 sits near 50N: a corridor keeps parts.
    let track = tracks(&[0, 1, 0, 1, 0]);
    let got = run_on(
        &track,
        "corridor",
        "coords=LINESTRING(0 0,1.2 1.2)&corridor-width=60",
        &l,
    )
    .await
    .unwrap();
    assert_eq!(got, [("g1".to_string(), vec![0, 1])]);
    assert!(
        run_on(
            &track,
            "area",
            "coords=POLYGON((20 20,21 20,21 21,20 20))",
            &l
        )
        .await
        .unwrap()
        .is_empty()
    );
}

#[tokio::test]
async fn bad_queries_and_costs_are_refused() {
    let l = LimitsConfig::default();
    let err = |r: EdrResult<Vec<(String, Vec<usize>)>>| r.unwrap_err().to_string();
    assert!(err(run_on(&stations(), "area", "coords=POINT(0 0)", &l).await).contains("POLYGON"));
    assert!(
        err(run_on(&stations(), "trajectory", "coords=LINESTRING(0 0,1 1)", &l).await)
            .contains("corridor")
    );
    assert!(err(run_on(&stations(), "cube", "", &l).await).contains("bbox"));
    assert!(
        err(run_on(&stations(), "position", "coords=POINT(0 0)&nope=1", &l).await).contains("nope")
    );
    let tight = LimitsConfig {
        max_geometry_work: 10,
        ..LimitsConfig::default()
    };
    assert!(
        err(run_on(
            &stations(),
            "area",
            "coords=POLYGON((0 0,1 0,1 1,0 0))",
            &tight
        )
        .await)
        .contains("limit")
    );
}

#[tokio::test]
async fn queries_over_profiles_of_stations_and_tracks() {
    let l = LimitsConfig::default();
    // Station A (10N 1E): profiles at days 0, 1, 2, each at 0 and 10 m.
    let got = run_on(
        &station_profiles(),
        "position",
        "coords=POINT(1 11)&datetime=2020-01-02/2020-01-03&z=10",
        &l,
    )
    .await
    .unwrap();
    assert_eq!(got, [("A".to_string(), vec![3, 5])]);
    // T1's profiles (1N 1E, day 0) and (0N 0E, day 2): the box holds the first.
    let got = run_on(
        &track_profiles(&[2, 1, 3], &[0, 1, 0]),
        "cube",
        "bbox=0.5,0.5,1.5,1.5",
        &l,
    )
    .await
    .unwrap();
    assert_eq!(got, [("T1".to_string(), vec![0, 1, 2])]);
    let got = run_on(
        &track_profiles(&[2, 1, 3], &[0, 1, 0]),
        "corridor",
        "coords=LINESTRING(-1 -1,2 2)&corridor-width=10&width-units=km&z=5/20",
        &l,
    )
    .await
    .unwrap();
    assert_eq!(got, [("T1".to_string(), vec![1, 2, 4])]);
}
