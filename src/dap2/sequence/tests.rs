//! The sequence table: rows, selections and sizes over in-memory DSG datasets.

use super::super::error::Dap2Error;
use super::constraint::{self, SeqConstraint};
use super::table::*;
use crate::features::build_index;
use crate::features::testing::{profiles, stations, tracks};

/// Collects rows as text.
struct Rows(Vec<String>, usize);

impl RowSink for Rows {
    fn row(&mut self, cells: &[Cell<'_>]) {
        let row: Vec<String> = cells
            .iter()
            .map(|c| match c {
                Cell::Text(s) => s.to_string(),
                Cell::Num(v) => v.to_string(),
                Cell::Single(v) => v.to_string(),
            })
            .collect();
        self.1 += row.len() * 8;
        self.0.push(row.join(","));
    }
    fn len(&self) -> usize {
        self.1
    }
}

async fn query(
    m: &crate::features::testing::Mem,
    seq: &str,
    q: &str,
) -> Result<Vec<String>, Dap2Error> {
    let index = build_index(m, &m.meta).await.unwrap();
    let cols = columns(&index);
    let ce = constraint::parse(Some(q), seq)?;
    let plan = plan(&index, &cols, &ce)?;
    let mut rows = Rows(Vec::new(), 0);
    write(m, &index, &cols, &plan, &mut rows, 10_000).await?;
    Ok(rows.0)
}

#[tokio::test]
async fn rows_and_selections() {
    let m = stations();
    let all = query(&m, "timeSeries", "").await.unwrap();
    assert_eq!(all.len(), 12);
    assert_eq!(all[0], "A,0,10,-5,0", "id, time, lat, lon, temp");
    // temp(station, time) = 4 * station + time: rows with temp >= 6 and lat < 25.
    let got = query(
        &m,
        "timeSeries",
        "station_name,temp&temp>=6&timeSeries.lat<25",
    )
    .await
    .unwrap();
    assert_eq!(got, ["B,6", "B,7"]);
    let got = query(
        &m,
        "timeSeries",
        "temp&station_name=\"C\"&time>=\"2020-01-03\"",
    )
    .await
    .unwrap();
    assert_eq!(got, ["10", "11"]);
    let got = query(&m, "timeSeries", "temp&station_name!=\"C\"&time<1")
        .await
        .unwrap();
    assert_eq!(got, ["0", "4"]);
    let p = profiles(&[3, 2]);
    let got = query(&p, "profile", "profile_id,depth,salt&depth>5")
        .await
        .unwrap();
    assert_eq!(got, ["101,10,35.1", "101,20,35.2"]);
    let t = tracks(&[0, 1, 0, 1, 0]);
    let got = query(&t, "trajectory", "trajectory.trajectory,temp&lat<40")
        .await
        .unwrap();
    assert_eq!(
        got,
        ["g1,1", "g1,3", "g1,5"],
        "rows come feature by feature"
    );
    // The bare sequence name is the whole sequence (pydap asks so), even when a
    // column has the same name.
    let got = query(&t, "trajectory", "trajectory&temp>4").await.unwrap();
    assert_eq!(got, ["g1,2,2,2,5"]);
}

#[tokio::test]
async fn dods_size_is_known_before_sending() {
    let m = stations();
    let index = build_index(&m, &m.meta).await.unwrap();
    let cols = columns(&index);
    let ce = constraint::parse(Some("station_name,temp"), "timeSeries").unwrap();
    let plan = plan(&index, &cols, &ce).unwrap();
    // 12 rows of a marker, a 1-character id (4 + 4 bytes) and a Float64.
    assert_eq!(dods_bytes(&index, &cols, &plan), 12 * (4 + 8 + 8));
    assert!(!plan.selects());
}

#[tokio::test]
async fn bad_constraints_and_limits() {
    let m = stations();
    let err = |r: Result<Vec<String>, Dap2Error>| r.unwrap_err().to_string();
    assert!(err(query(&m, "timeSeries", "nope").await).contains("no column \"nope\""));
    assert!(err(query(&m, "timeSeries", "&temp=\"x\"").await).contains("string"));
    assert!(err(query(&m, "timeSeries", "&time>\"notadate\"").await).contains("not a date"));
    let index = build_index(&m, &m.meta).await.unwrap();
    let cols = columns(&index);
    let plan = plan(&index, &cols, &SeqConstraint::default()).unwrap();
    let mut rows = Rows(Vec::new(), 0);
    let too_large = write(&m, &index, &cols, &plan, &mut rows, 10).await;
    assert!(matches!(too_large, Err(Dap2Error::TooLarge { .. })));
}
