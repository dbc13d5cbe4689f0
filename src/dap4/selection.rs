//! A constraint resolved against a dataset: which variables, which part of each, and
//! the sizes the DMR declares for constrained dimensions.

use std::collections::HashMap;

use thiserror::Error;

use super::ce::{Clause, Constraint, Slice};
use std::sync::Arc;

use crate::model::{CompoundType, DatasetMeta, Group, UserVariable, ValueType, Variable};
use crate::subset::{DimSlice, Hyperslab, SubsetError};

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SelectError {
    #[error("dap4.ce: no variable or group {0:?} in this dataset")]
    NoVariable(String),
    #[error("dap4.ce: no dimension {0:?} in this dataset")]
    NoDimension(String),
    #[error("dap4.ce: {path} has {rank} dimensions but {got} subsets were given")]
    Rank {
        path: String,
        rank: usize,
        got: usize,
    },
    #[error("dap4.ce: {path}: {source}")]
    Range { path: String, source: SubsetError },
    #[error("dap4.ce: {0} is projected twice with different subsets")]
    Conflict(String),
    #[error("dap4.ce: {0} is a group; groups cannot be subset")]
    GroupSubset(String),
}

/// One projected variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected<'m> {
    pub var: &'m Variable,
    pub slab: Hyperslab,
    /// Whether every dimension keeps its (possibly constrained) shared dimension; if not,
    /// the DMR gives this variable anonymous dimensions of the selected sizes.
    pub named_dims: bool,
    /// The type of a compound, vlen or opaque variable (read with `read_user`); for a
    /// compound projected by fields (`/v.a;/v.b`), with only those fields.
    pub user: Option<ValueType>,
    /// The indices of those fields in the variable's own type, in order.
    pub fields: Option<Vec<usize>>,
}

impl Selected<'_> {
    /// Encoded size in bytes; strings count their 8-byte lengths only. `None` if it
    /// does not fit a u64 (a request can ask for that much; no file holds it).
    pub fn fixed_bytes(&self) -> Option<u64> {
        let elem = match &self.user {
            Some(ty) => super::encode_user::min_encoded_len(ty),
            None => self.var.dtype.size().unwrap_or(8),
        };
        self.slab.checked_bytes(elem).ok()
    }
}

/// The variables of a response, in DMR order.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection<'m> {
    pub vars: Vec<Selected<'m>>,
    /// Constrained dimensions (full path → selected slice).
    pub dims: HashMap<String, DimSlice>,
    /// No constraint: the DMR describes the whole dataset, empty groups included.
    pub whole: bool,
}

impl<'m> Selection<'m> {
    pub fn whole(meta: &'m DatasetMeta) -> Selection<'m> {
        Selection {
            vars: meta
                .root
                .all_any_variables()
                .into_iter()
                .map(|v| Selected {
                    var: v.var,
                    slab: Hyperslab::full(&v.var.shape()),
                    named_dims: true,
                    user: v.ty.cloned(),
                    fields: None,
                })
                .collect(),
            dims: HashMap::new(),
            whole: true,
        }
    }

    /// The size the DMR declares for a dimension.
    pub fn dim_size(&self, path: &str, full: usize) -> usize {
        self.dims.get(path).map_or(full, |d| d.count)
    }

    pub fn get(&self, path: &str) -> Option<&Selected<'m>> {
        self.vars.iter().find(|s| s.var.path == path)
    }

    /// Total encoded size in bytes (strings counted by their lengths only), checked.
    pub fn fixed_bytes(&self) -> Option<u64> {
        self.vars
            .iter()
            .try_fold(0u64, |total, s| total.checked_add(s.fixed_bytes()?))
    }

    /// Whether the DMR must contain anything of `group` (a projected variable or a
    /// dimension one of them uses, there or below).
    pub fn touches_group(&self, group: &Group) -> bool {
        if self.whole {
            return true;
        }
        let prefix = if group.path == "/" {
            "/".to_string()
        } else {
            format!("{}/", group.path)
        };
        self.vars.iter().any(|s| {
            s.var.path.starts_with(&prefix)
                || (s.named_dims && s.var.dims.iter().any(|d| d.path.starts_with(&prefix)))
        })
    }

    /// Whether the DMR declares dimension `path`.
    pub fn declares_dim(&self, path: &str) -> bool {
        self.whole
            || self
                .vars
                .iter()
                .any(|s| s.named_dims && s.var.dims.iter().any(|d| d.path == path))
    }
}

fn dim_slice(slice: Slice, dim: usize, len: usize) -> Result<DimSlice, SubsetError> {
    match slice.stop {
        // `[]` or `[0:]` on an empty (unlimited) dimension selects nothing.
        None if len == 0 && slice.start == 0 => Ok(DimSlice {
            start: 0,
            stride: slice.stride,
            count: 0,
        }),
        None => DimSlice::from_inclusive(
            dim,
            slice.start,
            slice.stride,
            len.saturating_sub(1).max(slice.start),
            len,
        ),
        Some(stop) => DimSlice::from_inclusive(dim, slice.start, slice.stride, stop, len),
    }
}

/// `/v.field`: a field of a compound variable `/v` (one level: the field's own fields
/// are not projected apart). `None` as the index: the one member of a vlen's Sequence
/// (named like the variable), that is the whole variable.
fn structure_field<'m>(
    meta: &'m DatasetMeta,
    path: &str,
) -> Option<(&'m UserVariable, Option<usize>)> {
    let (var, field) = path.rsplit_once('.')?;
    let user = meta.user_variable(var)?;
    match &user.ty {
        ValueType::Compound(c) => {
            let index = c.fields.iter().position(|f| f.name == field)?;
            Some((user, Some(index)))
        }
        ValueType::Vlen(_) if field == user.var.name => Some((user, None)),
        _ => None,
    }
}

fn full_path(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

/// Resolves a constraint against the dataset.
pub fn resolve<'m>(
    meta: &'m DatasetMeta,
    ce: Option<&Constraint>,
) -> Result<Selection<'m>, SelectError> {
    let Some(ce) = ce else {
        return Ok(Selection::whole(meta));
    };
    // Dimension subsets first: they apply to every projection, wherever written.
    let mut dims = HashMap::new();
    for clause in &ce.clauses {
        if let Clause::Dimension { path, slice } = clause {
            let path = full_path(path);
            let dim = meta
                .dimension(&path)
                .ok_or_else(|| SelectError::NoDimension(path.clone()))?;
            let ds = dim_slice(*slice, 0, dim.len).map_err(|source| SelectError::Range {
                path: path.clone(),
                source,
            })?;
            dims.insert(path, ds);
        }
    }
    let mut chosen: HashMap<String, Hyperslab> = HashMap::new();
    let mut add = |var: &Variable, slices: &[Slice]| -> Result<(), SelectError> {
        let rank = var.dims.len();
        if slices.len() > rank {
            return Err(SelectError::Rank {
                path: var.path.clone(),
                rank,
                got: slices.len(),
            });
        }
        let mut out = Vec::with_capacity(rank);
        for (k, d) in var.dims.iter().enumerate() {
            let s = match slices.get(k) {
                Some(s) => dim_slice(*s, k, d.len).map_err(|source| SelectError::Range {
                    path: var.path.clone(),
                    source,
                })?,
                None => dims.get(&d.path).copied().unwrap_or(DimSlice::full(d.len)),
            };
            out.push(s);
        }
        let slab = Hyperslab::new(out);
        match chosen.get(&var.path) {
            Some(old) if *old != slab => Err(SelectError::Conflict(var.path.clone())),
            _ => {
                chosen.insert(var.path.clone(), slab);
                Ok(())
            }
        }
    };
    let mut projected = false;
    // Structures projected whole, and fields projected of the others.
    let mut whole_structures: Vec<String> = Vec::new();
    let mut fields: HashMap<String, Vec<usize>> = HashMap::new();
    for clause in &ce.clauses {
        let Clause::Variable { path, slices } = clause else {
            continue;
        };
        projected = true;
        if let Some(var) = meta.variable(path) {
            add(var, slices)?;
        } else if let Some(user) = meta.user_variable(path) {
            add(&user.var, slices)?;
            whole_structures.push(user.var.path.clone());
        } else if let Some((user, field)) = structure_field(meta, path) {
            add(&user.var, slices)?;
            match field {
                Some(field) => fields.entry(user.var.path.clone()).or_default().push(field),
                None => whole_structures.push(user.var.path.clone()),
            }
        } else if let Some(group) = meta.root.group(path).filter(|_| path != "/") {
            if !slices.is_empty() {
                return Err(SelectError::GroupSubset(path.clone()));
            }
            for v in group.all_any_variables() {
                add(v.var, &[])?;
            }
        } else {
            return Err(SelectError::NoVariable(path.clone()));
        }
    }
    if !projected {
        // Only dimension subsets: every variable, subset along them.
        for v in meta.root.all_any_variables() {
            add(v.var, &[])?;
        }
    }
    let vars =
        meta.root
            .all_any_variables()
            .into_iter()
            .filter_map(|v| {
                let var = v.var;
                let slab = chosen.remove(&var.path)?;
                let named_dims = var.dims.iter().zip(&slab.dims).all(|(d, s)| {
                    *s == dims.get(&d.path).copied().unwrap_or(DimSlice::full(d.len))
                });
                let keep = fields
                    .remove(&var.path)
                    .filter(|_| !whole_structures.contains(&var.path))
                    .map(|mut k| {
                        k.sort_unstable();
                        k.dedup();
                        k
                    });
                let user = match (v.ty, &keep) {
                    (Some(ValueType::Compound(c)), Some(keep)) => {
                        Some(ValueType::Compound(Arc::new(CompoundType {
                            fields: keep.iter().map(|i| c.fields[*i].clone()).collect(),
                            ..(**c).clone()
                        })))
                    }
                    (ty, _) => ty.cloned(),
                };
                Some(Selected {
                    var,
                    slab,
                    named_dims,
                    user,
                    fields: keep,
                })
            })
            .collect();
    Ok(Selection {
        vars,
        dims,
        whole: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dap4::ce::parse_ce;
    use crate::model::{DataType, DimRef, Dimension};

    /// `/time(2, unlimited)`, `/lat(5)`, `/sst(time, lat)`, `/lat(lat)`, `/g/v(lat)`.
    pub fn meta() -> DatasetMeta {
        let dref = |name: &str, len| DimRef {
            name: name.into(),
            path: format!("/{name}"),
            len,
        };
        let var = |path: &str, dims: Vec<DimRef>| Variable {
            name: path.rsplit('/').next().unwrap().into(),
            path: path.into(),
            dims,
            dtype: DataType::F32,
            attributes: vec![],
            chunks: None,
        };
        DatasetMeta {
            root: Group {
                name: String::new(),
                path: "/".into(),
                dimensions: vec![
                    Dimension {
                        name: "time".into(),
                        path: "/time".into(),
                        len: 2,
                        unlimited: true,
                    },
                    Dimension {
                        name: "lat".into(),
                        path: "/lat".into(),
                        len: 5,
                        unlimited: false,
                    },
                ],
                variables: vec![
                    var("/sst", vec![dref("time", 2), dref("lat", 5)]),
                    var("/lat", vec![dref("lat", 5)]),
                ],
                attributes: vec![],
                groups: vec![Group {
                    name: "g".into(),
                    path: "/g".into(),
                    variables: vec![var("/g/v", vec![dref("lat", 5)])],
                    ..Default::default()
                }],
                user_types: Default::default(),
            },
        }
    }

    fn sel<'m>(m: &'m DatasetMeta, ce: &str) -> Result<Selection<'m>, SelectError> {
        resolve(m, Some(&parse_ce(ce).unwrap()))
    }

    /// Found by fuzzing (the DAP2 parser; DAP4 shares the bounds check): indices of
    /// 2^63 and more passed it, and counts overflowed or reached 2^63 elements.
    #[test]
    fn huge_indices_are_refused() {
        let m = meta();
        for ce in [
            "/sst[0][0:18446744073709551615]",
            "/sst[0][9223372036854775808:18446744073709551615]",
            "/lat=[9223372036854775808:];/sst",
        ] {
            assert!(
                matches!(sel(&m, ce), Err(SelectError::Range { .. })),
                "{ce}"
            );
        }
    }

    #[test]
    fn projections_keep_dmr_order_and_shapes() {
        let m = meta();
        let s = sel(&m, "/g/v;/sst[1][0:2:4]").unwrap();
        let paths: Vec<_> = s.vars.iter().map(|v| v.var.path.as_str()).collect();
        assert_eq!(paths, vec!["/sst", "/g/v"]);
        assert_eq!(s.vars[0].slab.shape(), vec![1, 3]);
        assert!(!s.vars[0].named_dims);
        assert!(s.vars[1].named_dims);
        assert!(s.touches_group(m.root.group("/g").unwrap()));
        assert!(s.declares_dim("/lat"));
        assert!(!s.declares_dim("/time"));
        // Fewer subsets than dimensions: the rest are whole.
        let s = sel(&m, "sst[0:1]").unwrap();
        assert_eq!(s.vars[0].slab.shape(), vec![2, 5]);
        assert!(s.vars[0].named_dims);
        // A group projects everything below it.
        let s = sel(&m, "/g").unwrap();
        assert_eq!(s.vars.len(), 1);
        assert!(!s.touches_group(&m.root) || s.vars[0].var.path == "/g/v");
    }

    #[test]
    fn dimension_subsets_apply_to_projections() {
        let m = meta();
        let s = sel(&m, "/lat=[1:3];/sst;/lat;/g/v[0]").unwrap();
        assert_eq!(s.vars[0].slab.shape(), vec![2, 3]);
        assert!(s.vars[0].named_dims);
        assert_eq!(s.dim_size("/lat", 5), 3);
        assert_eq!(s.vars[2].slab.shape(), vec![1]);
        assert!(!s.vars[2].named_dims);
        // Only dimension subsets: all variables.
        let s = sel(&m, "/lat=[4]").unwrap();
        assert_eq!(s.vars.len(), 3);
        assert_eq!(s.fixed_bytes(), Some((2 + 1 + 1) * 4));
    }

    #[test]
    fn bad_references_are_errors() {
        let m = meta();
        assert!(matches!(sel(&m, "/nope"), Err(SelectError::NoVariable(_))));
        assert!(matches!(
            sel(&m, "/nodim=[0]"),
            Err(SelectError::NoDimension(_))
        ));
        assert!(matches!(
            sel(&m, "/sst[0][0][0]"),
            Err(SelectError::Rank { .. })
        ));
        assert!(matches!(sel(&m, "/sst[2]"), Err(SelectError::Range { .. })));
        assert!(matches!(
            sel(&m, "/lat=[0:9]"),
            Err(SelectError::Range { .. })
        ));
        assert!(matches!(
            sel(&m, "/sst[0];/sst[1]"),
            Err(SelectError::Conflict(_))
        ));
        assert!(sel(&m, "/sst[0];/sst[0]").is_ok());
        assert!(matches!(sel(&m, "/g[0]"), Err(SelectError::GroupSubset(_))));
    }

    #[test]
    fn indices_past_i64_are_range_errors_not_huge_shapes() {
        let m = meta();
        for ce in [
            "/sst[0:2:9223372036854775808][0]",
            "/sst[0:2:18446744073709551615]",
            "/sst[9223372036854775808]",
            "/sst[0:1:2]",
            "/lat=[0:9223372036854775808]",
            "/sst[9223372036854775808:]",
        ] {
            assert!(
                matches!(sel(&m, ce), Err(SelectError::Range { .. })),
                "{ce} -> {:?}",
                sel(&m, ce)
            );
        }
        // A huge stride on a short dimension selects one index, stride 1.
        let s = sel(&m, "/sst[0:18446744073709551615:1][4:2147483647:4]").unwrap();
        assert_eq!(
            s.vars[0].slab,
            Hyperslab::new(vec![DimSlice::index(0), DimSlice::index(4)])
        );
        // An open stop keeps the stride.
        let s = sel(&m, "/lat[1:9223372036854775808:]").unwrap();
        assert_eq!(s.vars[0].slab.shape(), vec![1]);
    }
}
