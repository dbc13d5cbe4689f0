//! CF coordinates: which variables locate a data variable in X, Y, Z and T.

use serde::Serialize;

use crate::model::{AttrValue, DatasetMeta, Variable};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Axis {
    X,
    Y,
    Z,
    T,
}

fn text(var: &Variable, name: &str) -> Option<String> {
    var.attr(name).and_then(AttrValue::as_text)
}

/// The axis a coordinate variable stands for, from `axis`, `standard_name`, `units` or
/// `positive`.
pub fn axis_of(var: &Variable) -> Option<Axis> {
    if let Some(a) = text(var, "axis") {
        match a.trim().to_ascii_uppercase().as_str() {
            "X" => return Some(Axis::X),
            "Y" => return Some(Axis::Y),
            "Z" => return Some(Axis::Z),
            "T" => return Some(Axis::T),
            _ => {}
        }
    }
    if let Some(sn) = text(var, "standard_name") {
        match sn.trim() {
            "longitude" | "grid_longitude" | "projection_x_coordinate" => return Some(Axis::X),
            "latitude" | "grid_latitude" | "projection_y_coordinate" => return Some(Axis::Y),
            "time" => return Some(Axis::T),
            "depth"
            | "height"
            | "altitude"
            | "air_pressure"
            | "model_level_number"
            | "atmosphere_sigma_coordinate"
            | "ocean_sigma_coordinate"
            | "ocean_s_coordinate"
            | "height_above_geopotential_datum" => return Some(Axis::Z),
            _ => {}
        }
    }
    if let Some(u) = text(var, "units") {
        let u = u.trim().to_ascii_lowercase();
        if matches!(
            u.as_str(),
            "degrees_east" | "degree_east" | "degree_e" | "degrees_e"
        ) {
            return Some(Axis::X);
        }
        if matches!(
            u.as_str(),
            "degrees_north" | "degree_north" | "degree_n" | "degrees_n"
        ) {
            return Some(Axis::Y);
        }
        if u.contains(" since ") {
            return Some(Axis::T);
        }
        if matches!(
            u.as_str(),
            "pa" | "hpa" | "mbar" | "millibar" | "bar" | "decibar" | "dbar"
        ) {
            return Some(Axis::Z);
        }
    }
    if text(var, "positive").is_some_and(|p| {
        let p = p.to_ascii_lowercase();
        p == "up" || p == "down"
    }) {
        return Some(Axis::Z);
    }
    // Last resort: conventional names.
    match var.name.to_ascii_lowercase().as_str() {
        "lon" | "longitude" | "nav_lon" => Some(Axis::X),
        "lat" | "latitude" | "nav_lat" => Some(Axis::Y),
        "time" | "t" => Some(Axis::T),
        "depth" | "lev" | "level" | "z" | "height" | "plev" => Some(Axis::Z),
        _ => None,
    }
}

/// A coordinate in a map projection's units (CF `projection_x/y_coordinate`).
fn is_projection_coordinate(var: &Variable) -> bool {
    text(var, "standard_name").is_some_and(|s| {
        matches!(
            s.trim(),
            "projection_x_coordinate" | "projection_y_coordinate"
        )
    })
}

/// One coordinate of a data variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoordVar {
    pub axis: Axis,
    /// Path of the coordinate variable.
    pub path: String,
    /// For each dimension of the coordinate variable, its index among the data
    /// variable's dimensions (`[2]` for a 1-D longitude on the third dimension).
    pub dims: Vec<usize>,
}

/// The coordinates of a data variable along each axis, where known.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CoordinateSystem {
    pub x: Option<CoordVar>,
    pub y: Option<CoordVar>,
    pub z: Option<CoordVar>,
    pub t: Option<CoordVar>,
}

impl CoordinateSystem {
    pub fn get(&self, axis: Axis) -> Option<&CoordVar> {
        match axis {
            Axis::X => self.x.as_ref(),
            Axis::Y => self.y.as_ref(),
            Axis::Z => self.z.as_ref(),
            Axis::T => self.t.as_ref(),
        }
    }

    fn slot(&mut self, axis: Axis) -> &mut Option<CoordVar> {
        match axis {
            Axis::X => &mut self.x,
            Axis::Y => &mut self.y,
            Axis::Z => &mut self.z,
            Axis::T => &mut self.t,
        }
    }

    /// Both horizontal coordinates are 2-D (a curvilinear grid or swath).
    pub fn is_curvilinear(&self) -> bool {
        matches!((&self.x, &self.y), (Some(x), Some(y)) if x.dims.len() == 2 && y.dims.len() == 2)
    }

    /// The data variable is a horizontal grid: it has X and Y coordinates.
    pub fn is_gridded(&self) -> bool {
        self.x.is_some() && self.y.is_some()
    }
}

/// Finds the coordinates of `var`: 1-D coordinate variables of its dimensions, then the
/// variables named in its `coordinates` attribute (e.g. 2-D `lat lon`).
pub fn coordinates(meta: &DatasetMeta, var: &Variable) -> CoordinateSystem {
    let mut cs = CoordinateSystem::default();
    for (i, dim) in var.dims.iter().enumerate() {
        if let Some(c) = meta.coordinate_variable(dim)
            && let Some(axis) = axis_of(c)
            && cs.get(axis).is_none()
        {
            *cs.slot(axis) = Some(CoordVar {
                axis,
                path: c.path.clone(),
                dims: vec![i],
            });
        }
    }
    let Some(names) = text(var, "coordinates") else {
        return cs;
    };
    for name in names.split_whitespace() {
        let candidate = meta
            .variable(&format!(
                "{}/{}",
                var.group_path().trim_end_matches('/'),
                name
            ))
            .or_else(|| meta.variable(name));
        let Some(c) = candidate else { continue };
        let Some(axis) = axis_of(c) else { continue };
        // Projection coordinates (metres on a map) give way to auxiliary longitudes
        // and latitudes: X and Y are where protocols place the data on the earth.
        let replaceable = cs
            .get(axis)
            .and_then(|cur| meta.variable(&cur.path))
            .is_some_and(|cur| is_projection_coordinate(cur) && !is_projection_coordinate(c));
        if cs.get(axis).is_some() && !replaceable {
            continue;
        }
        let dims: Option<Vec<usize>> = c
            .dims
            .iter()
            .map(|d| var.dims.iter().position(|vd| vd.path == d.path))
            .collect();
        if let Some(dims) = dims {
            *cs.slot(axis) = Some(CoordVar {
                axis,
                path: c.path.clone(),
                dims,
            });
        }
    }
    cs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attribute, DataType, DimRef, Group};

    fn dim(n: &str, len: usize) -> DimRef {
        DimRef {
            name: n.into(),
            path: format!("/{n}"),
            len,
        }
    }

    fn v(name: &str, dims: Vec<DimRef>, attrs: Vec<(&str, &str)>) -> Variable {
        Variable {
            name: name.into(),
            path: format!("/{name}"),
            dims,
            dtype: DataType::F32,
            attributes: attrs
                .into_iter()
                .map(|(k, val)| Attribute::new(k, AttrValue::Text(val.into())))
                .collect(),
            chunks: None,
        }
    }

    #[test]
    fn axes_from_attributes() {
        assert_eq!(axis_of(&v("x", vec![], vec![("axis", "X")])), Some(Axis::X));
        assert_eq!(
            axis_of(&v("a", vec![], vec![("units", "degrees_north")])),
            Some(Axis::Y)
        );
        assert_eq!(
            axis_of(&v("a", vec![], vec![("units", "hours since 2000-01-01")])),
            Some(Axis::T)
        );
        assert_eq!(
            axis_of(&v("a", vec![], vec![("positive", "down")])),
            Some(Axis::Z)
        );
        assert_eq!(
            axis_of(&v("a", vec![], vec![("standard_name", "longitude")])),
            Some(Axis::X)
        );
        assert_eq!(axis_of(&v("a", vec![], vec![])), None);
    }

    #[test]
    fn one_d_and_curvilinear() {
        let (t, y, x) = (dim("time", 2), dim("y", 3), dim("x", 4));
        let meta = DatasetMeta {
            root: Group {
                path: "/".into(),
                variables: vec![
                    v(
                        "time",
                        vec![t.clone()],
                        vec![("units", "days since 2000-01-01")],
                    ),
                    v(
                        "lat",
                        vec![y.clone(), x.clone()],
                        vec![("units", "degrees_north")],
                    ),
                    v(
                        "lon",
                        vec![y.clone(), x.clone()],
                        vec![("units", "degrees_east")],
                    ),
                    v("temp", vec![t, y, x], vec![("coordinates", "lat lon")]),
                ],
                ..Default::default()
            },
        };
        let cs = coordinates(&meta, meta.variable("temp").unwrap());
        assert_eq!(cs.t.as_ref().unwrap().dims, vec![0]);
        assert_eq!(cs.y.as_ref().unwrap().path, "/lat");
        assert_eq!(cs.x.as_ref().unwrap().dims, vec![1, 2]);
        assert!(cs.is_curvilinear());
        assert!(cs.z.is_none());
    }

    #[test]
    fn projection_coordinates_give_way_to_longitudes_and_latitudes() {
        let (y, x) = (dim("y", 3), dim("x", 4));
        let proj = |n: &str, sn: &str, d: &DimRef| {
            v(
                n,
                vec![d.clone()],
                vec![("standard_name", sn), ("units", "m")],
            )
        };
        let mut vars = vec![
            proj("x", "projection_x_coordinate", &x),
            proj("y", "projection_y_coordinate", &y),
            v(
                "lat",
                vec![y.clone(), x.clone()],
                vec![("units", "degrees_north")],
            ),
            v(
                "lon",
                vec![y.clone(), x.clone()],
                vec![("units", "degrees_east")],
            ),
            v(
                "a",
                vec![y.clone(), x.clone()],
                vec![("coordinates", "lon lat")],
            ),
            v("b", vec![y, x], vec![]),
        ];
        vars[0]
            .attributes
            .push(Attribute::new("axis", AttrValue::Text("X".into())));
        let meta = DatasetMeta {
            root: Group {
                path: "/".into(),
                variables: vars,
                ..Default::default()
            },
        };
        let cs = coordinates(&meta, meta.variable("a").unwrap());
        assert_eq!(cs.x.as_ref().unwrap().path, "/lon");
        assert_eq!(cs.y.as_ref().unwrap().path, "/lat");
        assert!(cs.is_curvilinear());
        // Without auxiliary coordinates, the projection coordinates stay.
        let cs = coordinates(&meta, meta.variable("b").unwrap());
        assert_eq!(cs.x.as_ref().unwrap().path, "/x");
    }
}
