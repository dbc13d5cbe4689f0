//! A Zarr hierarchy as the model's groups, dimensions and variables: dimension names
//! from `_ARRAY_DIMENSIONS` (v2) or `dimension_names` (v3), each dimension declared in
//! the shallowest group that uses it with that length.

use std::collections::BTreeMap;

use serde_json::Value;

use super::attributes::{self, Element};
use super::hierarchy::{ArrayNode, Hierarchy, ZarrFormat};
use crate::model::{Attribute, DatasetMeta, DimRef, Dimension, Group, Variable};

/// An array the model serves, with what reading it needs.
#[derive(Debug, Clone)]
pub struct ServedArray {
    /// Model path, `/temp` or `/forecast/temp`.
    pub var_path: String,
    /// Hierarchy path, `temp` or `forecast/temp`.
    pub node_path: String,
    pub element: Element,
    pub shape: Vec<usize>,
    /// The array's metadata document (`.zarray`, v3 `zarr.json`).
    pub metadata: Value,
}

fn shape_of(metadata: &Value) -> Option<Vec<usize>> {
    metadata
        .get("shape")?
        .as_array()?
        .iter()
        .map(|n| n.as_u64().and_then(|n| usize::try_from(n).ok()))
        .collect()
}

fn chunks_of(metadata: &Value, v3: bool) -> Option<Vec<usize>> {
    let chunks = if v3 {
        metadata
            .get("chunk_grid")?
            .get("configuration")?
            .get("chunk_shape")?
    } else {
        metadata.get("chunks")?
    };
    chunks
        .as_array()?
        .iter()
        .map(|n| n.as_u64().and_then(|n| usize::try_from(n).ok()))
        .collect()
}

/// Dimension names of an array; `{array}_dim{i}` where the store names none.
fn dim_names(node: &ArrayNode, v3: bool, rank: usize) -> Vec<String> {
    let named = if v3 {
        node.metadata.get("dimension_names")
    } else {
        node.attributes.get("_ARRAY_DIMENSIONS")
    };
    let names: Option<Vec<String>> = named.and_then(Value::as_array).and_then(|list| {
        list.iter()
            .map(|n| {
                n.as_str()
                    .filter(|s| !s.is_empty() && !s.contains('/'))
                    .map(String::from)
            })
            .collect()
    });
    let leaf = node.path.rsplit('/').next().unwrap_or(&node.path);
    match names {
        Some(n) if n.len() == rank => n,
        _ => (0..rank).map(|i| format!("{leaf}_dim{i}")).collect(),
    }
}

/// The group at `path` (`a/b`) under `root`, created if missing.
fn group_mut<'g>(root: &'g mut Group, path: &str) -> &'g mut Group {
    let mut g = root;
    for part in path.split('/').filter(|p| !p.is_empty()) {
        let i = match g.groups.iter().position(|c| c.name == part) {
            Some(i) => i,
            None => {
                let full = format!("{}/{part}", g.path.trim_end_matches('/'));
                g.groups.push(Group {
                    name: part.to_string(),
                    path: full,
                    ..Group::default()
                });
                g.groups.len() - 1
            }
        };
        g = &mut g.groups[i];
    }
    g
}

/// The full path of dimension `name` of length `len` seen from group `group` (`a/b`):
/// an ancestor's of that name and length, else declared in `group`. A name some
/// ancestor uses with another length gets the length appended (xarray would refuse).
fn dimension(root: &mut Group, group: &str, name: &str, len: usize) -> String {
    let parts: Vec<&str> = group.split('/').filter(|p| !p.is_empty()).collect();
    let mut name = name.to_string();
    for depth in 0..=parts.len() {
        let g = group_mut(root, &parts[..depth].join("/"));
        while let Some(d) = g.dimensions.iter().find(|d| d.name == name) {
            if d.len == len {
                return d.path.clone();
            }
            name = format!("{name}_{len}");
        }
    }
    let g = group_mut(root, group);
    let path = format!("{}/{name}", g.path.trim_end_matches('/'));
    g.dimensions.push(Dimension {
        name,
        path: path.clone(),
        len,
        unlimited: false,
    });
    path
}

/// The model of a hierarchy, and the arrays it serves. Arrays of types the model lacks
/// (datetime64, fixed-length strings, structures) are left out, with a warning.
pub fn build(h: &Hierarchy, location: &str) -> (DatasetMeta, Vec<ServedArray>) {
    let v3 = h.format == ZarrFormat::V3;
    let mut root = Group {
        path: "/".into(),
        ..Group::default()
    };
    for (path, attrs) in &h.groups {
        group_mut(&mut root, path).attributes = attributes::attributes(attrs, None);
    }
    let mut nodes: Vec<&ArrayNode> = h.arrays.iter().collect();
    // Shallow arrays first, so shared dimensions are declared as high as they can be;
    // coordinate arrays (1-D, named like their dimension) before the others, so their
    // length is the dimension's when arrays disagree.
    let is_coordinate = |n: &ArrayNode| {
        let leaf = n.path.rsplit('/').next().unwrap_or(&n.path);
        let names = dim_names(n, v3, shape_of(&n.metadata).map_or(0, |s| s.len()));
        names.len() == 1 && names[0] == leaf
    };
    nodes.sort_by_cached_key(|n| {
        (
            n.path.matches('/').count(),
            !is_coordinate(n),
            n.path.clone(),
        )
    });
    let mut served = Vec::new();
    let mut variables: BTreeMap<String, Variable> = BTreeMap::new();
    for node in nodes {
        let (Some(element), Some(shape)) = (
            attributes::element(&node.metadata, v3),
            shape_of(&node.metadata),
        ) else {
            tracing::warn!(
                "{location}: array {} has a type or shape datagate cannot serve; left out",
                node.path
            );
            continue;
        };
        let (group, name) = node.path.rsplit_once('/').unwrap_or(("", &node.path));
        let dims: Vec<DimRef> = dim_names(node, v3, shape.len())
            .iter()
            .zip(&shape)
            .map(|(d, &len)| {
                let path = dimension(&mut root, group, d, len);
                let name = path.rsplit('/').next().unwrap_or(d).to_string();
                DimRef { name, path, len }
            })
            .collect();
        let dtype = element.dtype();
        let mut attrs = attributes::attributes(&node.attributes, Some(dtype));
        attrs.retain(|a| a.name != "_FillValue");
        if let Some(fill) = attributes::fill_value(&node.metadata, &node.attributes, v3, dtype) {
            attrs.push(Attribute::new("_FillValue", fill));
        }
        let var_path = format!("/{}", node.path);
        variables.insert(
            var_path.clone(),
            Variable {
                name: name.to_string(),
                path: var_path.clone(),
                dims,
                dtype,
                attributes: attrs,
                chunks: chunks_of(&node.metadata, v3),
            },
        );
        served.push(ServedArray {
            var_path,
            node_path: node.path.clone(),
            element,
            shape,
            metadata: node.metadata.clone(),
        });
    }
    // Variables in path order within each group (what clients list them by).
    for (_, v) in variables {
        let group = v.group_path().trim_start_matches('/').to_string();
        group_mut(&mut root, &group).variables.push(v);
    }
    (DatasetMeta { root }, served)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(path: &str, metadata: Value, attrs: Value) -> ArrayNode {
        ArrayNode {
            path: path.into(),
            metadata,
            attributes: attrs.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn maps_v2_arrays_and_groups() {
        let h = Hierarchy {
            format: ZarrFormat::V2,
            arrays: vec![
                node(
                    "temp",
                    json!({"shape": [2, 3], "chunks": [1, 3], "dtype": "<f4", "fill_value": "NaN"}),
                    json!({"_ARRAY_DIMENSIONS": ["time", "x"], "units": "K"}),
                ),
                node(
                    "time",
                    json!({"shape": [2], "chunks": [2], "dtype": "<i8", "fill_value": null}),
                    json!({"_ARRAY_DIMENSIONS": ["time"], "units": "days since 2000-01-01"}),
                ),
                node(
                    "deep/v",
                    json!({"shape": [3], "chunks": [3], "dtype": "<i2", "fill_value": -1}),
                    json!({"_ARRAY_DIMENSIONS": ["x"]}),
                ),
                node(
                    "z_odd",
                    json!({"shape": [4], "chunks": [4], "dtype": "<i2", "fill_value": 0}),
                    json!({"_ARRAY_DIMENSIONS": ["x"]}),
                ),
                node(
                    "when",
                    json!({"shape": [2], "chunks": [2], "dtype": "<M8[ns]"}),
                    json!({}),
                ),
                node(
                    "anon",
                    json!({"shape": [5], "chunks": [5], "dtype": "|u1", "fill_value": null}),
                    json!({}),
                ),
            ],
            groups: BTreeMap::from([
                (
                    String::new(),
                    json!({"title": "t"}).as_object().unwrap().clone(),
                ),
                ("deep".into(), serde_json::Map::new()),
            ]),
        };
        let (meta, served) = build(&h, "test");
        assert_eq!(served.len(), 5);
        let temp = meta.variable("/temp").unwrap();
        assert_eq!(
            temp.dims
                .iter()
                .map(|d| d.path.as_str())
                .collect::<Vec<_>>(),
            ["/time", "/x"]
        );
        assert_eq!(temp.chunks, Some(vec![1, 3]));
        assert!(
            matches!(temp.attr("_FillValue"), Some(crate::model::AttrValue::F32(v)) if v[0].is_nan())
        );
        assert!(meta.variable("/time").unwrap().attr("_FillValue").is_none());
        // The nested array shares the root's `x` (same length).
        assert_eq!(meta.variable("/deep/v").unwrap().dims[0].path, "/x");
        // Same name, another length: renamed rather than inconsistent.
        assert_eq!(meta.variable("/z_odd").unwrap().dims[0].path, "/x_4");
        assert_eq!(meta.variable("/anon").unwrap().dims[0].name, "anon_dim0");
        assert!(meta.variable("/when").is_none());
        assert_eq!(meta.attributes()[0].name, "title");
        assert!(
            temp.attributes
                .iter()
                .all(|a| a.name != "_ARRAY_DIMENSIONS")
        );
    }
}
