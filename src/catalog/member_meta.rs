//! Shaping the metadata of an aggregation from its members': whether a member fits
//! the first one, the joined dimension's length, and what members cannot join.

use crate::model::{ArrayValues, DataType, DatasetMeta};

/// Same variables (path, type, dimension names), same dimension lengths except `except`.
pub(super) fn mismatch(
    reference: &DatasetMeta,
    other: &DatasetMeta,
    except: Option<&str>,
) -> Option<String> {
    let describe = |m: &DatasetMeta| -> Vec<(String, DataType, Vec<String>)> {
        m.variables()
            .into_iter()
            .map(|v| {
                (
                    v.path.clone(),
                    v.dtype,
                    v.dims.iter().map(|d| d.path.clone()).collect(),
                )
            })
            .collect()
    };
    let (a, b) = (describe(reference), describe(other));
    if a != b {
        let names = |d: &[(String, DataType, Vec<String>)]| {
            d.iter().map(|x| x.0.clone()).collect::<Vec<_>>()
        };
        return Some(format!(
            "variables differ: {:?} vs {:?}",
            names(&a),
            names(&b)
        ));
    }
    for v in reference.variables() {
        let o = other.variable(&v.path)?;
        for (da, db) in v.dims.iter().zip(&o.dims) {
            if Some(da.path.as_str()) != except && da.len != db.len {
                return Some(format!(
                    "{}: dimension {} is {} here, {} in the first file",
                    v.path, da.path, db.len, da.len
                ));
            }
        }
    }
    None
}

/// Calls `f` on a group and every group below it.
pub(super) fn for_each_group_mut(
    g: &mut crate::model::Group,
    f: &mut impl FnMut(&mut crate::model::Group),
) {
    f(g);
    for sub in &mut g.groups {
        for_each_group_mut(sub, f);
    }
}

/// Leaves out variables of compound, vlen and opaque types: members are joined as
/// arrays of atomic values (enum variables, integers, stay).
pub(super) fn drop_user_variables(meta: &mut DatasetMeta) {
    for_each_group_mut(&mut meta.root, &mut |g| g.user_types.variables.clear());
}

/// Sets the length of dimension `path` everywhere in the metadata.
pub(super) fn set_dim_len(meta: &mut DatasetMeta, path: &str, len: usize) {
    for_each_group_mut(&mut meta.root, &mut |g| {
        for d in &mut g.dimensions {
            if d.path == path {
                d.len = len;
            }
        }
        for v in &mut g.variables {
            for d in &mut v.dims {
                if d.path == path {
                    d.len = len;
                }
            }
        }
    });
}

/// Values as `dtype` (the aggregation's joined coordinate keeps its members' type).
pub(super) fn cast(values: &[f64], dtype: DataType) -> ArrayValues {
    match dtype {
        DataType::F32 => ArrayValues::F32(values.iter().map(|v| *v as f32).collect()),
        DataType::I32 => ArrayValues::I32(values.iter().map(|v| *v as i32).collect()),
        DataType::I64 => ArrayValues::I64(values.iter().map(|v| *v as i64).collect()),
        DataType::I16 => ArrayValues::I16(values.iter().map(|v| *v as i16).collect()),
        DataType::U32 => ArrayValues::U32(values.iter().map(|v| *v as u32).collect()),
        DataType::U64 => ArrayValues::U64(values.iter().map(|v| *v as u64).collect()),
        _ => ArrayValues::F64(values.to_vec()),
    }
}
