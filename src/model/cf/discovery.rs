//! Coordinates of a whole dataset, found without a data variable naming them: what
//! gives a file its place and time when no variable's `coordinates` attribute does
//! (a swath whose `time(row)` is named by no data variable, lat/lon of any dims).

use super::axes::{Axis, axis_of};
use super::time::TimeUnits;
use crate::model::{DatasetMeta, Variable};

fn text(var: &Variable, name: &str) -> Option<String> {
    var.attr(name).and_then(|a| a.as_text())
}

fn has_time_units(v: &Variable) -> bool {
    text(v, "units").is_some_and(|u| TimeUnits::parse(&u, text(v, "calendar").as_deref()).is_ok())
}

/// Variables holding CF times, of any shape: those with time units (`… since …`)
/// whose axis is T, by `axis`, `standard_name` or units. Those with standard name
/// `time` come first, so a swath's scan-line time wins over e.g. a `time_bnds`.
pub fn time_coordinates(meta: &DatasetMeta) -> Vec<&Variable> {
    let mut found: Vec<&Variable> = meta
        .variables()
        .into_iter()
        .filter(|v| v.dtype.is_numeric() && v.num_elements() > 0)
        .filter(|v| axis_of(v) == Some(Axis::T) && has_time_units(v))
        .collect();
    found.sort_by_key(|v| text(v, "standard_name").as_deref().map(str::trim) != Some("time"));
    found
}

/// Longitude and latitude with degree units (or standard names), of the same
/// dimensions: 1-D axes of a grid, or 2-D coordinates of a swath or curvilinear grid.
/// The pair with most dimensions comes first.
pub fn longitude_latitude(meta: &DatasetMeta) -> Option<(&Variable, &Variable)> {
    let geographic = |v: &Variable, axis: Axis, sn: &str, unit: &str| {
        v.dtype.is_numeric()
            && v.num_elements() > 0
            && axis_of(v) == Some(axis)
            && (text(v, "standard_name").as_deref().map(str::trim) == Some(sn)
                || text(v, "units")
                    .is_some_and(|u| u.trim().to_ascii_lowercase().starts_with(unit)))
    };
    let vars = meta.variables();
    let lons = vars
        .iter()
        .filter(|v| geographic(v, Axis::X, "longitude", "degree"));
    let mut pairs: Vec<(&Variable, &Variable)> = lons
        .filter_map(|lon| {
            let same_dims = |lat: &&&Variable| {
                lat.dims.len() == lon.dims.len()
                    && lat
                        .dims
                        .iter()
                        .zip(&lon.dims)
                        .all(|(a, b)| a.path == b.path)
            };
            let lat = vars
                .iter()
                .filter(|v| geographic(v, Axis::Y, "latitude", "degree"))
                .find(same_dims)?;
            Some((*lon, *lat))
        })
        .collect();
    pairs.sort_by_key(|(lon, _)| std::cmp::Reverse(lon.dims.len()));
    // 1-D longitude and latitude on different dimensions are a grid's axes too.
    if pairs.is_empty() {
        let lon = vars
            .iter()
            .find(|v| v.dims.len() == 1 && geographic(v, Axis::X, "longitude", "degree"))?;
        let lat = vars
            .iter()
            .find(|v| v.dims.len() == 1 && geographic(v, Axis::Y, "latitude", "degree"))?;
        return Some((*lon, *lat));
    }
    pairs.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AttrValue, Attribute, DataType, DimRef, Group};

    fn dim(n: &str, len: usize) -> DimRef {
        DimRef {
            name: n.into(),
            path: format!("/{n}"),
            len,
        }
    }

    fn v(name: &str, dims: Vec<DimRef>, attrs: &[(&str, &str)]) -> Variable {
        Variable {
            name: name.into(),
            path: format!("/{name}"),
            dims,
            dtype: DataType::F64,
            attributes: attrs
                .iter()
                .map(|(k, val)| Attribute::new(*k, AttrValue::Text((*val).into())))
                .collect(),
            chunks: None,
        }
    }

    fn swath() -> DatasetMeta {
        let (row, cell) = (dim("row", 3), dim("cell", 4));
        DatasetMeta {
            root: Group {
                path: "/".into(),
                variables: vec![
                    v(
                        "scan_time_bnds",
                        vec![row.clone()],
                        &[("units", "seconds since 2020-01-01")],
                    ),
                    v(
                        "scan_time",
                        vec![row.clone()],
                        &[
                            ("standard_name", "time"),
                            ("units", "seconds since 2020-01-01"),
                        ],
                    ),
                    v(
                        "lat",
                        vec![row.clone(), cell.clone()],
                        &[("units", "degrees_north")],
                    ),
                    v(
                        "lon",
                        vec![row.clone(), cell.clone()],
                        &[("standard_name", "longitude"), ("units", "degrees_east")],
                    ),
                    v("sst", vec![row, cell], &[("coordinates", "lat lon")]),
                ],
                ..Default::default()
            },
        }
    }

    #[test]
    fn swath_time_by_standard_name_first() {
        let meta = swath();
        let names: Vec<&str> = time_coordinates(&meta)
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(names, ["scan_time", "scan_time_bnds"]);
    }

    #[test]
    fn two_d_longitude_latitude_pair() {
        let meta = swath();
        let (lon, lat) = longitude_latitude(&meta).unwrap();
        assert_eq!((lon.name.as_str(), lat.name.as_str()), ("lon", "lat"));
        let (x, y) = (dim("x", 2), dim("y", 2));
        let grid = DatasetMeta {
            root: Group {
                path: "/".into(),
                variables: vec![
                    v("x", vec![x], &[("units", "degrees_east")]),
                    v("y", vec![y], &[("units", "degrees_north")]),
                ],
                ..Default::default()
            },
        };
        let (lon, lat) = longitude_latitude(&grid).unwrap();
        assert_eq!((lon.name.as_str(), lat.name.as_str()), ("x", "y"));
        assert!(longitude_latitude(&DatasetMeta::default()).is_none());
    }
}
