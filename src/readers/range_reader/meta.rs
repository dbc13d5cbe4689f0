//! The model's metadata from `netcdf-reader`'s view of a file, matching what
//! netCDF-C gives (groups, dimension scoping, attribute types): tests compare the two.

use netcdf_reader::{NcAttrValue, NcDimension, NcGroup, NcType};

use crate::model::{AttrValue, Attribute, DataType, DimRef, Dimension, Group, Variable};

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

fn data_type(t: &NcType) -> Option<DataType> {
    Some(match t {
        NcType::Byte => DataType::I8,
        NcType::UByte => DataType::U8,
        NcType::Short => DataType::I16,
        NcType::UShort => DataType::U16,
        NcType::Int => DataType::I32,
        NcType::UInt => DataType::U32,
        NcType::Int64 => DataType::I64,
        NcType::UInt64 => DataType::U64,
        NcType::Float => DataType::F32,
        NcType::Double => DataType::F64,
        NcType::Char => DataType::Char,
        NcType::String => DataType::String,
        _ => return None,
    })
}

/// Attribute values as netCDF-C presents them (a one-string `string` attribute reads
/// as text, like a `char` one).
fn attr_value(v: &NcAttrValue) -> Option<AttrValue> {
    Some(match v {
        NcAttrValue::Bytes(x) => AttrValue::I8(x.clone()),
        NcAttrValue::UBytes(x) => AttrValue::U8(x.clone()),
        NcAttrValue::Shorts(x) => AttrValue::I16(x.clone()),
        NcAttrValue::UShorts(x) => AttrValue::U16(x.clone()),
        NcAttrValue::Ints(x) => AttrValue::I32(x.clone()),
        NcAttrValue::UInts(x) => AttrValue::U32(x.clone()),
        NcAttrValue::Int64s(x) => AttrValue::I64(x.clone()),
        NcAttrValue::UInt64s(x) => AttrValue::U64(x.clone()),
        NcAttrValue::Floats(x) => AttrValue::F32(x.clone()),
        NcAttrValue::Doubles(x) => AttrValue::F64(x.clone()),
        NcAttrValue::Chars(s) => AttrValue::Text(s.clone()),
        NcAttrValue::Strings(v) if v.len() == 1 => AttrValue::Text(v[0].clone()),
        NcAttrValue::Strings(v) => AttrValue::Strings(v.clone()),
        NcAttrValue::UserDefined { .. } => return None,
    })
}

fn attributes(attrs: &[netcdf_reader::NcAttribute], owner: &str) -> Vec<Attribute> {
    attrs
        .iter()
        .filter_map(|a| match attr_value(&a.value) {
            Some(v) => Some(Attribute::new(a.name.clone(), v)),
            None => {
                tracing::warn!("{owner}: skipping user-defined attribute {}", a.name);
                None
            }
        })
        .collect()
}

/// The dimensions a group defines itself. `netcdf-reader` lists a group's visible
/// dimensions: its own first, then its parent's visible ones it does not shadow.
fn own_dimensions<'a>(visible: &'a [NcDimension], parent: &[NcDimension]) -> &'a [NcDimension] {
    for k in 0..=visible.len() {
        let own = &visible[..k];
        let inherited = parent
            .iter()
            .filter(|p| !own.iter().any(|o| o.name == p.name));
        if inherited.eq(visible[k..].iter()) {
            return own;
        }
    }
    visible
}

/// Builds a model group and its descendants; the path of a variable of a user-defined
/// type is the error (not read here: see below). `visible` holds the ancestors' dimensions,
/// innermost last, for netCDF's scoping rule (a dimension name resolves to the nearest).
pub(super) fn build_group(
    g: &NcGroup,
    path: &str,
    visible: &[Dimension],
    parent: &[NcDimension],
) -> Result<Group, String> {
    let dimensions: Vec<Dimension> = own_dimensions(&g.dimensions, parent)
        .iter()
        .map(|d| Dimension {
            name: d.name.clone(),
            path: join(path, &d.name),
            len: d.size as usize,
            unlimited: d.is_unlimited,
        })
        .collect();
    let mut scope = visible.to_vec();
    scope.extend(dimensions.iter().cloned());
    let mut variables = Vec::new();
    for v in &g.variables {
        let vpath = join(path, &v.name);
        let Some(dtype) = data_type(&v.dtype) else {
            // netCDF-C reads user-defined types (enum, compound, vlen, opaque): the
            // file goes to it whole, so that both readers describe it alike.
            return Err(vpath);
        };
        let dims = v
            .dimensions
            .iter()
            .map(|d| DimRef {
                name: d.name.clone(),
                path: scope
                    .iter()
                    .rev()
                    .find(|s| s.name == d.name)
                    .map(|s| s.path.clone())
                    .unwrap_or_else(|| join(path, &d.name)),
                len: d.size as usize,
            })
            .collect();
        variables.push(Variable {
            name: v.name.clone(),
            path: vpath.clone(),
            dims,
            dtype,
            attributes: attributes(&v.attributes, &vpath),
            chunks: None,
        });
    }
    Ok(Group {
        name: if path == "/" {
            String::new()
        } else {
            g.name.clone()
        },
        path: path.to_string(),
        dimensions,
        variables,
        attributes: attributes(&g.attributes, path),
        groups: g
            .groups
            .iter()
            .map(|sub| build_group(sub, &join(path, &sub.name), &scope, &g.dimensions))
            .collect::<Result<_, _>>()?,
        user_types: Default::default(),
    })
}
