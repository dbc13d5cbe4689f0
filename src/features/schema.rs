//! Recognising a DSG file from its metadata alone: the feature type, the layout of CF
//! appendix H (multidimensional — orthogonal or incomplete —, contiguous ragged,
//! indexed ragged, or flat: a point file or a file of one feature), the id, coordinate
//! and data variables, and on which dimensions each lies.

use super::{DsgError, FeatureType};
use crate::model::cf::{Axis, axis_of};
use crate::model::{AttributeList, DataType, DatasetMeta, DimRef, Variable};

/// How observations are laid out (CF appendix H).
#[derive(Debug, Clone, PartialEq)]
pub enum Layout {
    /// `data(instance, element)`: orthogonal when the element coordinate is 1-D,
    /// incomplete when it is 2-D (missing elements padded with fill values).
    Multidimensional,
    /// `data(obs)`, features one after the other; `count(instance)` observations each
    /// (the count variable has `sample_dimension`).
    ContiguousRagged { count: Variable },
    /// `data(obs)` in any order; `index(obs)` names each observation's feature (the
    /// index variable has `instance_dimension`).
    IndexedRagged { index: Variable },
    /// `data(obs)` with no instance dimension: each observation a point, or one feature.
    Flat,
    /// Two levels (timeSeriesProfile, trajectoryProfile), multidimensional:
    /// `data(instance, profile, element)` (CF H.5.1, H.6.1).
    NestedMultidimensional,
    /// Two levels, ragged (CF H.5.3, H.6.3): profiles along the profile dimension,
    /// `index(profile)` naming each one's instance (`instance_dimension`),
    /// `count(profile)` its observations, one profile after the other along the
    /// observation dimension (`sample_dimension`).
    NestedRagged { index: Variable, count: Variable },
}

impl Layout {
    pub fn is_nested(&self) -> bool {
        matches!(
            self,
            Layout::NestedMultidimensional | Layout::NestedRagged { .. }
        )
    }
}

/// Where a variable's values lie relative to the features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// One value for the whole file.
    Scalar,
    /// One value per feature.
    Instance,
    /// One value per observation: on the observation (or element) dimension, or on
    /// (instance, element) in either order for multidimensional layouts.
    Obs { instance_axis: Option<usize> },
    /// Two-level layouts: one value per profile, on the profile dimension or on
    /// (instance, profile) in either order.
    Profile { instance_axis: Option<usize> },
    /// Two-level multidimensional layouts: one value per observation, on (instance,
    /// profile, element).
    Cell,
    /// Two-level multidimensional layouts: one value per element, the same for every
    /// profile (`z(z)`).
    Element,
}

impl Level {
    /// One value per observation (not shared by a profile or feature).
    pub fn per_obs(self) -> bool {
        matches!(self, Level::Obs { .. } | Level::Cell | Level::Element)
    }
}

/// The structure of a DSG file, from its metadata.
#[derive(Debug, Clone)]
pub struct Schema {
    pub feature_type: FeatureType,
    pub layout: Layout,
    /// The instance dimension; `None` for flat layouts.
    pub instance_dim: Option<DimRef>,
    /// The observation dimension (the element dimension of multidimensional layouts).
    pub obs_dim: DimRef,
    /// The profile dimension of two-level layouts.
    pub profile_dim: Option<DimRef>,
    /// The `cf_role` variable (optional only for points).
    pub id: Option<Variable>,
    pub x: Variable,
    pub y: Variable,
    pub t: Option<Variable>,
    pub z: Option<Variable>,
    /// Numeric observed variables (one value per observation), in file order.
    pub data: Vec<Variable>,
}

/// The file declares one of CF's discrete sampling geometry feature types (it is
/// meant to be served as features). Other values seen in the wild (`grid`, `swath`)
/// leave the file a grid.
pub fn is_dsg(meta: &DatasetMeta) -> bool {
    meta.attributes()
        .attr_text("featureType")
        .is_some_and(|t| FeatureType::parse(&t).is_some())
}

/// The dimensions of a variable that carry values (a char variable's last dimension is
/// its string length).
pub(super) fn value_dims(v: &Variable) -> &[DimRef] {
    match v.dtype {
        DataType::Char if !v.dims.is_empty() => &v.dims[..v.dims.len() - 1],
        _ => &v.dims,
    }
}

impl Schema {
    /// Where `v` lies, or `None` if it is on other dimensions.
    pub fn level(&self, v: &Variable) -> Option<Level> {
        match &self.profile_dim {
            Some(p) => nested_level(
                v,
                self.instance_dim.as_ref(),
                p,
                &self.obs_dim,
                &self.layout,
            ),
            None => level(v, self.instance_dim.as_ref(), &self.obs_dim, &self.layout),
        }
    }

    /// The id, coordinate or data variable at `path`.
    pub fn variable(&self, path: &str) -> Option<&Variable> {
        [
            Some(&self.x),
            Some(&self.y),
            self.t.as_ref(),
            self.z.as_ref(),
            self.id.as_ref(),
        ]
        .into_iter()
        .flatten()
        .chain(&self.data)
        .find(|v| v.path == path)
    }

    pub fn instances(&self) -> usize {
        self.instance_dim.as_ref().map_or(1, |d| d.len)
    }
}

/// Where `v` lies in a two-level layout.
pub(super) fn nested_level(
    v: &Variable,
    inst: Option<&DimRef>,
    profile: &DimRef,
    obs: &DimRef,
    layout: &Layout,
) -> Option<Level> {
    let is = |d: &DimRef, o: Option<&DimRef>| o.is_some_and(|o| o.path == d.path);
    let multi = *layout == Layout::NestedMultidimensional;
    match value_dims(v) {
        [] => Some(Level::Scalar),
        [d] if is(d, inst) => Some(Level::Instance),
        [d] if d.path == profile.path => Some(Level::Profile {
            instance_axis: None,
        }),
        [d] if d.path == obs.path && multi => Some(Level::Element),
        [d] if d.path == obs.path => Some(Level::Obs {
            instance_axis: None,
        }),
        [a, b] if multi && is(a, inst) && b.path == profile.path => Some(Level::Profile {
            instance_axis: Some(0),
        }),
        [a, b] if multi && a.path == profile.path && is(b, inst) => Some(Level::Profile {
            instance_axis: Some(1),
        }),
        [a, b, c] if multi && is(a, inst) && b.path == profile.path && c.path == obs.path => {
            Some(Level::Cell)
        }
        // One station or trajectory (scalar id): (profile, element).
        [a, b] if multi && inst.is_none() && a.path == profile.path && b.path == obs.path => {
            Some(Level::Cell)
        }
        _ => None,
    }
}

fn level(v: &Variable, inst: Option<&DimRef>, obs: &DimRef, layout: &Layout) -> Option<Level> {
    let is = |d: &DimRef, o: Option<&DimRef>| o.is_some_and(|o| o.path == d.path);
    match value_dims(v) {
        [] => Some(Level::Scalar),
        [d] if is(d, inst) => Some(Level::Instance),
        [d] if d.path == obs.path => Some(Level::Obs {
            instance_axis: None,
        }),
        [a, b] if *layout == Layout::Multidimensional => {
            if is(a, inst) && b.path == obs.path {
                Some(Level::Obs {
                    instance_axis: Some(0),
                })
            } else if a.path == obs.path && is(b, inst) {
                Some(Level::Obs {
                    instance_axis: Some(1),
                })
            } else {
                None
            }
        }
        _ => None,
    }
}

pub(super) fn find_var<'a>(meta: &'a DatasetMeta, attr: &str) -> Option<&'a Variable> {
    meta.root.variables.iter().find(|v| v.attr(attr).is_some())
}

pub(super) fn dim_named(meta: &DatasetMeta, name: &str) -> Option<DimRef> {
    let d = meta
        .root
        .dimensions
        .iter()
        .find(|d| d.name == name.trim())?;
    Some(DimRef {
        name: d.name.clone(),
        path: d.path.clone(),
        len: d.len,
    })
}

/// The coordinate variable of `axis` lying on the features' dimensions, preferring one
/// per observation when `prefer_obs`.
pub(super) fn coordinate<'a>(
    meta: &'a DatasetMeta,
    axis: Axis,
    placed: &dyn Fn(&Variable) -> Option<Level>,
    prefer_obs: bool,
) -> Option<&'a Variable> {
    let candidates: Vec<(&Variable, Level)> = meta
        .root
        .variables
        .iter()
        .filter(|v| v.dtype.is_numeric() && axis_of(v) == Some(axis))
        .filter_map(|v| placed(v).map(|l| (v, l)))
        .collect();
    let obs = candidates.iter().find(|(_, l)| l.per_obs());
    let other = candidates.iter().find(|(_, l)| !l.per_obs());
    let pick = if prefer_obs {
        obs.or(other)
    } else {
        other.or(obs)
    };
    pick.map(|(v, _)| *v)
}

/// Recognises the DSG structure of a one-level file (root group only, as CF requires).
pub fn detect_one_level(meta: &DatasetMeta) -> Result<Schema, DsgError> {
    let ft_text = meta
        .attributes()
        .attr_text("featureType")
        .ok_or_else(|| DsgError::NotDsg("no featureType attribute".into()))?;
    let feature_type = FeatureType::parse(&ft_text)
        .ok_or_else(|| DsgError::UnsupportedFeatureType(ft_text.clone()))?;
    if feature_type.is_nested() {
        return Err(DsgError::UnsupportedFeatureType(ft_text));
    }
    let id = feature_type.cf_role().and_then(|role| {
        meta.root.variables.iter().find(|v| {
            v.attr("cf_role")
                .and_then(|a| a.as_text())
                .is_some_and(|r| r.trim() == role)
        })
    });
    if id.is_none()
        && let Some(role) = feature_type.cf_role()
    {
        return Err(DsgError::MissingCfRole(role));
    }
    let id_dims = id.map(|v| value_dims(v).to_vec()).unwrap_or_default();
    if id_dims.len() > 1 {
        return Err(DsgError::malformed(format!(
            "the cf_role variable {:?} must be scalar or on the instance dimension",
            id.map(|v| v.name.as_str()).unwrap_or("")
        )));
    }
    // The layout, and with it the instance and observation dimensions.
    let (layout, instance_dim, obs_dim) = if let Some(count) = find_var(meta, "sample_dimension") {
        let name = count
            .attributes
            .attr_text("sample_dimension")
            .unwrap_or_default();
        let obs = dim_named(meta, &name).ok_or_else(|| {
            DsgError::malformed(format!(
                "{}: sample_dimension names no dimension {name:?}",
                count.name
            ))
        })?;
        let [inst] = count.dims.as_slice() else {
            return Err(DsgError::malformed(format!(
                "the count variable {} must be 1-D on the instance dimension",
                count.name
            )));
        };
        let layout = Layout::ContiguousRagged {
            count: count.clone(),
        };
        (layout, Some(inst.clone()), obs)
    } else if let Some(index) = find_var(meta, "instance_dimension") {
        let name = index
            .attributes
            .attr_text("instance_dimension")
            .unwrap_or_default();
        let inst = dim_named(meta, &name).ok_or_else(|| {
            DsgError::malformed(format!(
                "{}: instance_dimension names no dimension {name:?}",
                index.name
            ))
        })?;
        let [obs] = index.dims.as_slice() else {
            return Err(DsgError::malformed(format!(
                "the index variable {} must be 1-D on the observation dimension",
                index.name
            )));
        };
        let layout = Layout::IndexedRagged {
            index: index.clone(),
        };
        (layout, Some(inst), obs.clone())
    } else if let Some(inst) = id_dims
        .first()
        .filter(|_| feature_type != FeatureType::Point)
    {
        // Multidimensional: the element dimension is the other dimension of the
        // coordinate that varies along a feature (time, or z for profiles).
        let along = if feature_type == FeatureType::Profile {
            Axis::Z
        } else {
            Axis::T
        };
        let element = meta
            .root
            .variables
            .iter()
            .filter(|v| v.dtype.is_numeric() && axis_of(v) == Some(along))
            .find_map(|v| match v.dims.as_slice() {
                [d] if d.path != inst.path => Some(d.clone()),
                [a, b] if a.path == inst.path => Some(b.clone()),
                [a, b] if b.path == inst.path => Some(a.clone()),
                _ => None,
            })
            .ok_or(DsgError::MissingCoordinate(if along == Axis::Z {
                "vertical (z)"
            } else {
                "time"
            }))?;
        (Layout::Multidimensional, Some(inst.clone()), element)
    } else {
        // Flat: the observation dimension is that of the time (or z) coordinate.
        let obs = meta
            .root
            .variables
            .iter()
            .filter(|v| v.dtype.is_numeric() && matches!(axis_of(v), Some(Axis::T) | Some(Axis::Z)))
            .find_map(|v| match v.dims.as_slice() {
                [d] => Some(d.clone()),
                _ => None,
            })
            .ok_or(DsgError::MissingCoordinate("time"))?;
        (Layout::Flat, None, obs)
    };
    if let (Some(inst), Some(d)) = (&instance_dim, id_dims.first())
        && d.path != inst.path
    {
        return Err(DsgError::malformed(format!(
            "the cf_role variable is on dimension {:?}, the instance dimension is {:?}",
            d.name, inst.name
        )));
    }
    let placed = |v: &Variable| level(v, instance_dim.as_ref(), &obs_dim, &layout);
    let per_obs_xy = matches!(feature_type, FeatureType::Trajectory | FeatureType::Point);
    let x = coordinate(meta, Axis::X, &placed, per_obs_xy)
        .ok_or(DsgError::MissingCoordinate("longitude"))?;
    let y = coordinate(meta, Axis::Y, &placed, per_obs_xy)
        .ok_or(DsgError::MissingCoordinate("latitude"))?;
    let t = coordinate(meta, Axis::T, &placed, feature_type != FeatureType::Profile);
    let z = coordinate(meta, Axis::Z, &placed, feature_type == FeatureType::Profile);
    if t.is_none() && feature_type != FeatureType::Profile {
        return Err(DsgError::MissingCoordinate("time"));
    }
    if z.is_none() && feature_type == FeatureType::Profile {
        return Err(DsgError::MissingCoordinate("vertical (z)"));
    }
    let mut not_data: Vec<&str> = vec![&x.path, &y.path];
    not_data.extend(
        t.iter()
            .chain(z.iter())
            .chain(id.iter())
            .map(|v| v.path.as_str()),
    );
    match &layout {
        Layout::ContiguousRagged { count } => not_data.push(&count.path),
        Layout::IndexedRagged { index } => not_data.push(&index.path),
        _ => {}
    }
    let data = meta
        .root
        .variables
        .iter()
        .filter(|v| v.dtype.is_numeric() && !not_data.contains(&v.path.as_str()))
        .filter(|v| matches!(placed(v), Some(Level::Obs { .. })))
        .cloned()
        .collect();
    Ok(Schema {
        feature_type,
        instance_dim,
        obs_dim,
        profile_dim: None,
        id: id.cloned(),
        x: x.clone(),
        y: y.clone(),
        t: t.cloned(),
        z: z.cloned(),
        data,
        layout,
    })
}
