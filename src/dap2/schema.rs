//! The DAP2 view of a dataset: groups flattened, types mapped down to DAP2's, and
//! Grids for variables whose every dimension has a 1-D coordinate variable.
//!
//! Naming rule (documented in docs/dap2.md): a variable or dimension inside a group is
//! named by its path without the leading `/`, with `/` replaced by `_`
//! (`/forecast/deep/salinity` → `forecast_deep_salinity`); if that name is already taken,
//! `_2`, `_3`, ... is appended. Root names are unchanged.

use std::collections::{HashMap, HashSet};

use crate::model::{DataType, DatasetMeta, Variable};

/// DAP2's atomic types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dap2Type {
    Byte,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Float32,
    Float64,
    String,
}

impl Dap2Type {
    /// The DAP2 type serving a model type; `None` for 64-bit integers (no DAP2 type can
    /// hold them without wrapping or rounding).
    pub fn of(t: DataType) -> Option<Dap2Type> {
        Some(match t {
            DataType::I8 | DataType::U8 => Dap2Type::Byte,
            DataType::I16 => Dap2Type::Int16,
            DataType::U16 => Dap2Type::UInt16,
            DataType::I32 => Dap2Type::Int32,
            DataType::U32 => Dap2Type::UInt32,
            DataType::F32 => Dap2Type::Float32,
            DataType::F64 => Dap2Type::Float64,
            DataType::Char | DataType::String => Dap2Type::String,
            DataType::I64 | DataType::U64 => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Dap2Type::Byte => "Byte",
            Dap2Type::Int16 => "Int16",
            Dap2Type::UInt16 => "UInt16",
            Dap2Type::Int32 => "Int32",
            Dap2Type::UInt32 => "UInt32",
            Dap2Type::Float32 => "Float32",
            Dap2Type::Float64 => "Float64",
            Dap2Type::String => "String",
        }
    }

    /// Bytes per element on the wire (XDR widens 8- and 16-bit values to 32 bits; Byte
    /// arrays are packed). `None` for strings.
    pub fn xdr_width(self) -> Option<usize> {
        match self {
            Dap2Type::Byte => Some(1),
            Dap2Type::Int16 | Dap2Type::UInt16 | Dap2Type::Int32 | Dap2Type::UInt32 => Some(4),
            Dap2Type::Float32 => Some(4),
            Dap2Type::Float64 => Some(8),
            Dap2Type::String => None,
        }
    }
}

/// One dimension as DAP2 shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dap2Dim {
    pub name: String,
    pub len: usize,
}

/// An array (or scalar) of the DAP2 view, backed by one model variable.
#[derive(Debug, Clone)]
pub struct Dap2Array {
    /// The flattened name (unescaped).
    pub name: String,
    pub var: Variable,
    pub dtype: Dap2Type,
    /// Dimensions as DAP2 shows them: a char variable loses its last dimension, which
    /// becomes the length of its strings.
    pub dims: Vec<Dap2Dim>,
    /// For char variables: the length of each string (the last dimension).
    pub char_len: Option<usize>,
    /// For char variables: the name of that last dimension.
    pub char_dim: Option<String>,
}

impl Dap2Array {
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().map(|d| d.len).collect()
    }
}

#[derive(Debug, Clone)]
pub enum Item {
    Array(Dap2Array),
    Grid {
        array: Dap2Array,
        maps: Vec<Dap2Array>,
    },
}

impl Item {
    pub fn name(&self) -> &str {
        match self {
            Item::Array(a) => &a.name,
            Item::Grid { array, .. } => &array.name,
        }
    }
}

/// A model variable DAP2 cannot carry, and why.
#[derive(Debug, Clone)]
pub struct Omitted {
    pub path: String,
    pub reason: String,
}

/// The whole DAP2 view of one dataset.
#[derive(Debug, Clone)]
pub struct Schema {
    pub items: Vec<Item>,
    pub omitted: Vec<Omitted>,
    /// The unlimited dimension netCDF-C should recreate (DAP2 can name only one).
    pub unlimited: Option<String>,
    /// Flattened names of groups other than the root, with their model paths.
    pub groups: Vec<(String, String)>,
}

impl Schema {
    pub fn item(&self, name: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.name() == name)
    }

    pub fn build(meta: &DatasetMeta) -> Schema {
        let mut names = Namer::default();
        // Root names first, so they never change because of a group.
        for v in &meta.root.variables {
            names.claim(&v.path);
        }
        for d in &meta.root.dimensions {
            names.claim(&d.path);
        }
        let vars = meta.variables();
        let mut arrays: Vec<Dap2Array> = Vec::new();
        let mut omitted = Vec::new();
        for v in &vars {
            match array_of(v, &mut names) {
                Ok(a) => arrays.push(a),
                Err(reason) => omitted.push(Omitted {
                    path: v.path.clone(),
                    reason,
                }),
            }
        }
        let by_path: HashMap<&str, &Dap2Array> =
            arrays.iter().map(|a| (a.var.path.as_str(), a)).collect();
        let mut items = Vec::new();
        for a in &arrays {
            let maps: Option<Vec<Dap2Array>> =
                if a.var.is_coordinate_variable() || a.dims.is_empty() || a.char_len.is_some() {
                    None
                } else {
                    a.var
                        .dims
                        .iter()
                        .map(|d| {
                            meta.coordinate_variable(d)
                                .and_then(|c| by_path.get(c.path.as_str()))
                                .filter(|m| m.char_len.is_none() && m.dtype != Dap2Type::String)
                                .map(|m| (*m).clone())
                        })
                        .collect()
                };
            items.push(match maps {
                Some(maps) => Item::Grid {
                    array: a.clone(),
                    maps,
                },
                None => Item::Array(a.clone()),
            });
        }
        let unlimited = meta
            .root
            .all_groups()
            .iter()
            .flat_map(|g| g.dimensions.iter())
            .find(|d| d.unlimited)
            .map(|d| names.name_of(&d.path));
        let groups = meta
            .root
            .all_groups()
            .iter()
            .skip(1)
            .map(|g| (names.name_of(&g.path), g.path.clone()))
            .collect();
        Schema {
            items,
            omitted,
            unlimited,
            groups,
        }
    }
}

fn array_of(v: &Variable, names: &mut Namer) -> Result<Dap2Array, String> {
    let dtype = Dap2Type::of(v.dtype).ok_or_else(|| {
        format!(
            "{} is a 64-bit integer ({}); DAP2 has no 64-bit integer type, so it is not served over DAP2 (use DAP4)",
            v.path,
            v.dtype.name()
        )
    })?;
    let mut dims: Vec<Dap2Dim> = v
        .dims
        .iter()
        .map(|d| Dap2Dim {
            name: names.name_of(&d.path),
            len: d.len,
        })
        .collect();
    let (char_len, char_dim) = if v.dtype == DataType::Char {
        match dims.pop() {
            Some(last) => (Some(last.len), Some(last.name)),
            None => (Some(1), None),
        }
    } else {
        (None, None)
    };
    Ok(Dap2Array {
        name: names.name_of(&v.path),
        var: v.clone(),
        dtype,
        dims,
        char_len,
        char_dim,
    })
}

/// Gives every model path (variable, dimension, group) one unique flattened name.
#[derive(Default)]
struct Namer {
    by_path: HashMap<String, String>,
    taken: HashSet<String>,
}

impl Namer {
    fn claim(&mut self, path: &str) {
        self.name_of(path);
    }

    fn name_of(&mut self, path: &str) -> String {
        if let Some(n) = self.by_path.get(path) {
            return n.clone();
        }
        let base = flatten(path);
        let mut name = base.clone();
        let mut k = 2;
        while self.taken.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.taken.insert(name.clone());
        self.by_path.insert(path.to_string(), name.clone());
        name
    }
}

/// `/a/b/c` → `a_b_c`.
pub fn flatten(path: &str) -> String {
    path.trim_start_matches('/').replace('/', "_")
}

/// A name as it appears in a DDS, DAS or constraint: characters other than letters,
/// digits, `_` and `-` are percent-encoded, byte by byte (DAP2's `id2www`).
pub fn escape_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DimRef, Group};

    fn var(path: &str, dims: &[(&str, usize)], dtype: DataType) -> Variable {
        Variable {
            name: path.rsplit('/').next().unwrap().into(),
            path: path.into(),
            dims: dims
                .iter()
                .map(|(p, n)| DimRef {
                    name: p.rsplit('/').next().unwrap().into(),
                    path: (*p).into(),
                    len: *n,
                })
                .collect(),
            dtype,
            attributes: vec![],
            chunks: None,
        }
    }

    #[test]
    fn grids_flattening_and_omissions() {
        let meta = DatasetMeta {
            root: Group {
                path: "/".into(),
                variables: vec![
                    var("/x", &[("/x", 3)], DataType::F64),
                    var("/t", &[("/x", 3)], DataType::F32),
                    var("/g_v", &[], DataType::I32),
                    var("/big", &[("/x", 3)], DataType::I64),
                    var("/c", &[("/x", 3), ("/len", 5)], DataType::Char),
                ],
                groups: vec![Group {
                    name: "g".into(),
                    path: "/g".into(),
                    variables: vec![var("/g/v", &[("/g/m", 2), ("/x", 3)], DataType::I8)],
                    ..Default::default()
                }],
                ..Default::default()
            },
        };
        let s = Schema::build(&meta);
        assert!(matches!(s.item("t"), Some(Item::Grid { maps, .. }) if maps[0].name == "x"));
        assert!(matches!(s.item("x"), Some(Item::Array(_))));
        // `/g/v` flattens to `g_v`, which a root variable holds already.
        let Some(Item::Array(gv)) = s.item("g_v_2") else {
            panic!("{:?}", s.items)
        };
        assert_eq!(gv.dims[0].name, "g_m");
        assert_eq!(gv.dtype, Dap2Type::Byte);
        assert_eq!(s.omitted.len(), 1);
        assert!(s.item("big").is_none());
        let Some(Item::Array(c)) = s.item("c") else {
            panic!()
        };
        assert_eq!((c.shape(), c.char_len), (vec![3], Some(5)));
        assert_eq!(escape_name("a b.c"), "a%20b%2Ec");
    }
}
