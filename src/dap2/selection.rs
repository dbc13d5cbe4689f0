//! A parsed constraint applied to a dataset's DAP2 view: which arrays, which indices.

use super::ce::{Component, Constraint, IndexRange};
use super::error::Dap2Error;
use super::schema::{Dap2Array, Item, Schema, escape_name};
use crate::subset::{DimSlice, Hyperslab};

/// One array to send, with the part of it selected (over its DAP2 dimensions).
#[derive(Debug, Clone)]
pub struct Selected {
    pub array: Dap2Array,
    pub slab: Hyperslab,
}

impl Selected {
    fn whole(array: &Dap2Array) -> Selected {
        Selected {
            slab: Hyperslab::full(&array.shape()),
            array: array.clone(),
        }
    }

    /// The selection over the model variable: a char variable gets its whole last
    /// dimension (the characters of each string) back.
    pub fn source_slab(&self) -> Hyperslab {
        let mut slab = self.slab.clone();
        if let Some(n) = self.array.char_len
            && self.array.var.dims.len() > self.array.dims.len()
        {
            slab.dims.push(DimSlice::full(n));
        }
        slab
    }

    pub fn count(&self) -> usize {
        self.slab.num_elements()
    }

    pub fn is_scalar(&self) -> bool {
        self.array.dims.is_empty()
    }
}

/// One top-level entry of a constrained response, in dataset order.
#[derive(Debug, Clone)]
pub enum Projected {
    Array(Selected),
    /// A Grid whose array and every map are sent with matching ranges.
    Grid {
        array: Selected,
        maps: Vec<Selected>,
    },
    /// The parts of a Grid requested when they do not form a Grid (DAP2 sends them as
    /// a Structure).
    Structure {
        name: String,
        members: Vec<Selected>,
    },
}

impl Projected {
    /// The arrays to send, in the order their data is written.
    pub fn members(&self) -> Vec<&Selected> {
        match self {
            Projected::Array(s) => vec![s],
            Projected::Grid { array, maps } => std::iter::once(array).chain(maps).collect(),
            Projected::Structure { members, .. } => members.iter().collect(),
        }
    }
}

/// Per schema item: the selection of its array part and of each map, if requested.
#[derive(Default, Clone)]
struct Pick {
    array: Option<Hyperslab>,
    maps: Vec<Option<Hyperslab>>,
}

fn names_match(written: &str, name: &str) -> bool {
    written == name || written == escape_name(name)
}

fn slab_for(array: &Dap2Array, ranges: &[IndexRange], what: &str) -> Result<Hyperslab, Dap2Error> {
    let shape = array.shape();
    if ranges.len() > shape.len() {
        return Err(Dap2Error::BadRequest(format!(
            "{what} has {} dimension(s) but {} index range(s) were given",
            shape.len(),
            ranges.len()
        )));
    }
    let mut dims = Vec::with_capacity(shape.len());
    for (k, &len) in shape.iter().enumerate() {
        let slice = match ranges.get(k) {
            None => DimSlice::full(len),
            Some(r) => DimSlice::from_inclusive(k, r.start, r.stride, r.stop_or_start(), len)
                .map_err(|e| {
                    Dap2Error::BadRequest(format!(
                        "{what}[{}]: {e} (dimension {} has {len} elements)",
                        format_range(r),
                        array.dims[k].name
                    ))
                })?,
        };
        dims.push(slice);
    }
    Ok(Hyperslab::new(dims))
}

fn format_range(r: &IndexRange) -> String {
    match r.stop {
        None => r.start.to_string(),
        Some(stop) if r.stride == 1 => format!("{}:{stop}", r.start),
        Some(stop) => format!("{}:{}:{stop}", r.start, r.stride),
    }
}

/// Applies `ce` to `schema`. An empty projection selects everything.
pub fn select(schema: &Schema, ce: &Constraint) -> Result<Vec<Projected>, Dap2Error> {
    if ce.projections.is_empty() {
        return Ok(schema
            .items
            .iter()
            .map(|item| match item {
                Item::Array(a) => Projected::Array(Selected::whole(a)),
                Item::Grid { array, maps } => Projected::Grid {
                    array: Selected::whole(array),
                    maps: maps.iter().map(Selected::whole).collect(),
                },
            })
            .collect());
    }
    let mut picks: Vec<Option<Pick>> = vec![None; schema.items.len()];
    for path in &ce.projections {
        apply(schema, path, &mut picks)?;
    }
    let mut out = Vec::new();
    for (item, pick) in schema.items.iter().zip(picks) {
        let Some(pick) = pick else { continue };
        match item {
            Item::Array(a) => out.push(Projected::Array(Selected {
                array: a.clone(),
                slab: pick.array.expect("arrays are picked whole"),
            })),
            Item::Grid { array, maps } => {
                let arr = pick.array.map(|slab| Selected {
                    array: array.clone(),
                    slab,
                });
                let sel_maps: Vec<Option<Selected>> = maps
                    .iter()
                    .zip(&pick.maps)
                    .map(|(m, s)| {
                        s.clone().map(|slab| Selected {
                            array: m.clone(),
                            slab,
                        })
                    })
                    .collect();
                // libdap's rule: a Grid only if the array and every map are sent, each
                // map with its dimension's range.
                let is_grid = arr.as_ref().is_some_and(|a| {
                    sel_maps
                        .iter()
                        .enumerate()
                        .all(|(k, m)| m.as_ref().is_some_and(|m| m.slab.dims[0] == a.slab.dims[k]))
                });
                if is_grid {
                    out.push(Projected::Grid {
                        array: arr.expect("checked"),
                        maps: sel_maps.into_iter().map(|m| m.expect("checked")).collect(),
                    });
                } else {
                    out.push(Projected::Structure {
                        name: array.name.clone(),
                        members: arr
                            .into_iter()
                            .chain(sel_maps.into_iter().flatten())
                            .collect(),
                    });
                }
            }
        }
    }
    Ok(out)
}

fn apply(schema: &Schema, path: &[Component], picks: &mut [Option<Pick>]) -> Result<(), Dap2Error> {
    let head = &path[0];
    let Some(index) = schema
        .items
        .iter()
        .position(|i| names_match(&head.name, i.name()))
    else {
        return Err(Dap2Error::BadRequest(format!(
            "no variable {:?} in this dataset{}",
            head.name,
            omitted_hint(schema, &head.name)
        )));
    };
    let item = &schema.items[index];
    let pick = picks[index].get_or_insert_with(|| Pick {
        array: None,
        maps: match item {
            Item::Grid { maps, .. } => vec![None; maps.len()],
            Item::Array(_) => Vec::new(),
        },
    });
    match (item, path.len()) {
        (Item::Array(a), 1) => {
            pick.array = Some(slab_for(a, &head.ranges, &head.name)?);
        }
        (Item::Array(_), _) => {
            return Err(Dap2Error::BadRequest(format!(
                "{:?} is an array, not a Grid or Structure: it has no member {:?}",
                head.name, path[1].name
            )));
        }
        (Item::Grid { array, maps }, 1) => {
            let slab = slab_for(array, &head.ranges, &head.name)?;
            for (k, m) in pick.maps.iter_mut().enumerate() {
                *m = Some(Hyperslab::new(vec![slab.dims[k]]));
            }
            let _ = maps;
            pick.array = Some(slab);
        }
        (Item::Grid { array, maps }, 2) => {
            if !head.ranges.is_empty() {
                return Err(Dap2Error::BadRequest(format!(
                    "index ranges go on the Grid member, not on the Grid {:?} itself",
                    head.name
                )));
            }
            let member = &path[1];
            let what = format!("{}.{}", head.name, member.name);
            if names_match(&member.name, &array.name) {
                pick.array = Some(slab_for(array, &member.ranges, &what)?);
            } else if let Some(k) = maps.iter().position(|m| names_match(&member.name, &m.name)) {
                pick.maps[k] = Some(slab_for(&maps[k], &member.ranges, &what)?);
            } else {
                return Err(Dap2Error::BadRequest(format!(
                    "the Grid {:?} has no member {:?}",
                    head.name, member.name
                )));
            }
        }
        (Item::Grid { .. }, _) => {
            return Err(Dap2Error::BadRequest(format!(
                "{:?}: a Grid's members have no members",
                path.iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(".")
            )));
        }
    }
    Ok(())
}

fn omitted_hint(schema: &Schema, name: &str) -> String {
    schema
        .omitted
        .iter()
        .find(|o| names_match(name, &super::schema::flatten(&o.path)))
        .map(|o| format!(" ({})", o.reason))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dap2::ce::parse;
    use crate::model::{DataType, DatasetMeta, DimRef, Dimension, Group, Variable};

    /// `sst(time=2, lat=3, lon=4)`.
    fn schema() -> Schema {
        let dims = [("time", 2), ("lat", 3), ("lon", 4)];
        Schema::build(&DatasetMeta {
            root: Group {
                path: "/".into(),
                dimensions: dims
                    .iter()
                    .map(|&(name, len)| Dimension {
                        name: name.into(),
                        path: format!("/{name}"),
                        len,
                        unlimited: false,
                    })
                    .collect(),
                variables: vec![Variable {
                    name: "sst".into(),
                    path: "/sst".into(),
                    dims: dims
                        .iter()
                        .map(|&(name, len)| DimRef {
                            name: name.into(),
                            path: format!("/{name}"),
                            len,
                        })
                        .collect(),
                    dtype: DataType::F32,
                    attributes: vec![],
                    chunks: None,
                }],
                ..Default::default()
            },
        })
    }

    /// Found by fuzzing: indices of 2^63 and more passed the bounds check and the
    /// element count overflowed (or 2^63 elements were selected).
    #[test]
    fn huge_indices_are_refused() {
        let schema = schema();
        for ce in [
            "sst[0:1:1][0:18446744073709551615]",
            "sst[0][0][9223372036854775808:18446744073709551615]",
            "sst[18446744073709551615]",
        ] {
            let ce = parse(Some(ce)).unwrap();
            assert!(matches!(
                select(&schema, &ce),
                Err(Dap2Error::BadRequest(_))
            ));
        }
        let ce = parse(Some("sst[1][0:2][3]")).unwrap();
        let projected = select(&schema, &ce).unwrap();
        assert_eq!(projected[0].members()[0].slab.shape(), vec![1, 3, 1]);
    }
}
