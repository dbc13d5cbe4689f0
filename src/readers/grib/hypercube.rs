//! Messages to hypercubes, the way cfgrib does it: one variable per parameter, whose
//! messages must agree on cfgrib's "unique" keys (else the variable is split by the
//! key, as `filter_by_keys` would), with `number`, `time`, `step` and the level as
//! dimensions (or scalar coordinates when they have one value). The variables form
//! one dataset when their coordinates agree (what `xr.open_dataset(engine="cfgrib")`
//! opens); otherwise they are grouped by `typeOfLevel`, like `cfgrib.open_datasets`.

use std::collections::{BTreeMap, HashMap};

use crate::model::Attribute;

use super::attrs::{GLOBAL_KEYS, attr, text, var_attrs, var_name};
use super::coords::{Coord, CoordValues, decreasing, geo_coords, header_coord, valid_time};
use super::index::{Field, MessageIndex};
use super::keys::KeyValue;

/// Keys all messages of one variable must share (cfgrib's `DATA_ATTRIBUTES_KEYS`,
/// the global ones, and the grid).
const UNIQUE_KEYS: &[&str] = &[
    "paramId",
    "dataType",
    "numberOfPoints",
    "typeOfLevel",
    "stepUnits",
    "stepType",
    "gridType",
    "uvRelativeToGrid",
    "edition",
    "centre",
    "subCentre",
    "md5GridSection",
];
/// One data variable of a hypercube.
#[derive(Debug, Clone)]
pub(crate) struct CubeVar {
    pub name: String,
    pub attrs: Vec<Attribute>,
    /// The dimensions before the grid's (`number`, `time`, `step`, level: those with
    /// more than one value), then the grid's.
    pub dims: Vec<(String, usize)>,
    /// How many of `dims` are the grid's.
    pub geo_ndim: usize,
    /// The message at each position along the non-grid dimensions.
    pub fields: HashMap<Vec<usize>, usize>,
    type_of_level: String,
}

/// One dataset: variables and their coordinates.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cube {
    pub vars: Vec<CubeVar>,
    pub coords: Vec<Coord>,
    pub attrs: Vec<Attribute>,
}

/// Splits `ids` by the first unique key on which they disagree, recursively.
fn split_unique(index: &MessageIndex, ids: Vec<usize>, out: &mut Vec<Vec<usize>>) -> bool {
    for key in UNIQUE_KEYS {
        let mut by_value: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for &i in &ids {
            let v = index.fields[i]
                .keys
                .get(key)
                .map(|v| format!("{v:?}"))
                .unwrap_or_default();
            by_value.entry(v).or_default().push(i);
        }
        if by_value.len() > 1 {
            for (_, part) in by_value {
                split_unique(index, part, out);
            }
            return true;
        }
    }
    out.push(ids);
    false
}

/// A variable and its coordinates, before merging into a dataset.
struct Part {
    var: CubeVar,
    coords: Vec<Coord>,
    attrs: Vec<Attribute>,
}

fn sorted_unique<T: PartialOrd + Copy>(values: impl Iterator<Item = T>, desc: bool) -> Vec<T> {
    let mut v: Vec<T> = values.collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.dedup_by(|a, b| a == b);
    if desc {
        v.reverse();
    }
    v
}

fn position<T: PartialEq>(values: &[T], v: &T) -> usize {
    values.iter().position(|x| x == v).unwrap_or(0)
}

/// The variable made of the messages `ids` (which agree on the unique keys).
fn part(index: &MessageIndex, ids: &[usize]) -> Part {
    let first: &Field = &index.fields[ids[0]];
    let fields: Vec<&Field> = ids.iter().map(|&i| &index.fields[i]).collect();
    let type_of_level = first.text("typeOfLevel").unwrap_or("level").to_string();
    let has_number = fields.iter().all(|f| f.keys.contains_key("number"));
    let number_of = |f: &Field| match f.keys.get("number") {
        Some(KeyValue::Int(n)) => *n,
        _ => 0,
    };
    let level_of = |f: &Field| {
        f.keys
            .get("level")
            .and_then(KeyValue::as_f64)
            .unwrap_or(0.0)
    };
    let numbers = sorted_unique(fields.iter().map(|f| number_of(f)), false);
    let times = sorted_unique(fields.iter().map(|f| f.time), false);
    let steps = sorted_unique(fields.iter().map(|f| f.step), false);
    let levels = sorted_unique(
        fields.iter().map(|f| level_of(f)),
        decreasing(&type_of_level),
    );
    let mut header = Vec::new();
    if has_number {
        let numbers = numbers.iter().map(|&n| n as i32).collect();
        header.push(header_coord("number", "number", CoordValues::I32(numbers)));
    }
    // Seconds as f64: DAP2 has no 64-bit integers, and f64 holds them exactly.
    let seconds = times.iter().map(|&t| t as f64).collect();
    let time = header_coord("time", "time", CoordValues::F64(seconds));
    let step = header_coord("step", "step", CoordValues::F64(steps.clone()));
    header.push(time.clone());
    header.push(step.clone());
    if first.keys.contains_key("level") {
        header.push(header_coord(
            &type_of_level,
            "level",
            CoordValues::F64(levels.clone()),
        ));
    }
    let mut positions = HashMap::new();
    for (&id, f) in ids.iter().zip(&fields) {
        let mut at = Vec::new();
        if has_number && numbers.len() > 1 {
            at.push(position(&numbers, &number_of(f)));
        }
        if times.len() > 1 {
            at.push(position(&times, &f.time));
        }
        if steps.len() > 1 {
            at.push(position(&steps, &f.step));
        }
        if first.keys.contains_key("level") && levels.len() > 1 {
            at.push(position(&levels, &level_of(f)));
        }
        // Duplicates: the later message wins, as in cfgrib.
        positions.insert(at, id);
    }
    let geo = &index.grids[first.grid];
    let mut dims: Vec<(String, usize)> = header.iter().flat_map(|c| c.dims.clone()).collect();
    let geo_dims: Vec<(String, usize)> = geo
        .dims()
        .into_iter()
        .map(|(n, l)| (n.to_string(), l))
        .collect();
    dims.extend(geo_dims.iter().cloned());
    let mut coords = header;
    coords.extend(geo_coords(geo));
    coords.extend(valid_time(&time, &step));
    let name = var_name(first);
    let attrs = var_attrs(first, &coords);
    let global = GLOBAL_KEYS
        .iter()
        .filter_map(|k| first.keys.get(k).map(|v| attr(k, v)))
        .collect();
    Part {
        var: CubeVar {
            name,
            attrs,
            dims,
            geo_ndim: geo_dims.len(),
            fields: positions,
            type_of_level,
        },
        coords,
        attrs: global,
    }
}

impl Cube {
    fn dim_len(&self, name: &str) -> Option<usize> {
        let coord_dims = self.coords.iter().flat_map(|c| &c.dims);
        let var_dims = self.vars.iter().flat_map(|v| &v.dims);
        coord_dims
            .chain(var_dims)
            .find(|(n, _)| n == name)
            .map(|(_, l)| *l)
    }

    /// Adds `p` if it agrees with what the cube holds (cfgrib's `dict_merge`: same
    /// coordinates, dimension lengths and dataset attributes; no name twice).
    fn merge(&mut self, p: &Part) -> bool {
        let empty = self.vars.is_empty();
        if !empty && self.attrs != p.attrs {
            return false;
        }
        let taken = |n: &str| self.vars.iter().any(|v| v.name == n);
        if taken(&p.var.name) || self.coords.iter().any(|c| c.name == p.var.name) {
            return false;
        }
        for c in &p.coords {
            if taken(&c.name) {
                return false;
            }
            if let Some(mine) = self.coords.iter().find(|m| m.name == c.name)
                && mine != c
            {
                return false;
            }
        }
        let dims = p.coords.iter().flat_map(|c| &c.dims).chain(&p.var.dims);
        for (name, len) in dims {
            if self.dim_len(name).is_some_and(|l| l != *len) {
                return false;
            }
        }
        for c in &p.coords {
            if !self.coords.iter().any(|m| m.name == c.name) {
                self.coords.push(c.clone());
            }
        }
        self.vars.push(p.var.clone());
        if empty {
            self.attrs = p.attrs.clone();
        }
        true
    }

    /// The dataset attributes cfgrib adds to the GRIB ones.
    fn finish(mut self) -> Cube {
        let institution = self
            .attrs
            .iter()
            .find(|a| a.name == "GRIB_centreDescription")
            .cloned();
        self.attrs.push(text("Conventions", "CF-1.7"));
        if let Some(i) = institution {
            self.attrs.push(Attribute::new("institution", i.value));
        }
        self.attrs.push(text(
            "history",
            "GRIB to CDM+CF by datagate (ecCodes), as cfgrib maps it",
        ));
        self
    }
}

/// The datasets the messages of `index` form: one unnamed dataset when they make one
/// hypercube, else datasets named by their `typeOfLevel` (`surface`, `isobaricInhPa`,
/// then `surface_2`... when one level type needs several).
pub(crate) fn group(index: &MessageIndex) -> Vec<(Option<String>, Cube)> {
    let mut by_param: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, f) in index.fields.iter().enumerate() {
        let param = f
            .keys
            .get("paramId")
            .map(|v| format!("{v:?}"))
            .unwrap_or_default();
        by_param.entry(param).or_default().push(i);
    }
    let mut split = false;
    let mut groups = Vec::new();
    for ids in by_param.into_values() {
        split |= split_unique(index, ids, &mut groups);
    }
    let parts: Vec<Part> = groups.iter().map(|ids| part(index, ids)).collect();
    if !split {
        let mut one = Cube::default();
        if parts.iter().all(|p| one.merge(p)) {
            return vec![(None, one.finish())];
        }
    }
    let mut by_level: BTreeMap<&str, Vec<Cube>> = BTreeMap::new();
    for p in &parts {
        let cubes = by_level.entry(p.var.type_of_level.as_str()).or_default();
        if !cubes.iter_mut().any(|c| c.merge(p)) {
            let mut c = Cube::default();
            c.merge(p);
            cubes.push(c);
        }
    }
    let mut out = Vec::new();
    for (level, cubes) in by_level {
        for (k, cube) in cubes.into_iter().enumerate() {
            let name = if k == 0 {
                level.to_string()
            } else {
                format!("{level}_{}", k + 1)
            };
            out.push((Some(name), cube.finish()));
        }
    }
    out
}
