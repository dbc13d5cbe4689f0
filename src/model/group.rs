//! Groups, dimensions and variables: the structure of a dataset.

use serde::Serialize;

use std::sync::Arc;

use super::{Attribute, AttributeList, DataType, EnumType, ValueType};

/// A named dimension; `path` is its full name (`/forecast/time`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dimension {
    pub name: String,
    pub path: String,
    pub len: usize,
    pub unlimited: bool,
}

/// A variable's use of a dimension (which may live in an ancestor group).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimRef {
    pub name: String,
    pub path: String,
    pub len: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variable {
    pub name: String,
    /// Full path, `/var` at the root, `/group/var` inside a group.
    pub path: String,
    pub dims: Vec<DimRef>,
    pub dtype: DataType,
    pub attributes: Vec<Attribute>,
    /// Stored chunk shape, if the variable is chunked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<Vec<usize>>,
}

impl Variable {
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().map(|d| d.len).collect()
    }

    /// Saturates at `usize::MAX` (a damaged file's dimensions may multiply past it):
    /// every limit compared with it then refuses the variable.
    pub fn num_elements(&self) -> usize {
        self.dims
            .iter()
            .fold(1usize, |n, d| n.saturating_mul(d.len))
    }

    pub fn attr(&self, name: &str) -> Option<&super::AttrValue> {
        self.attributes.attr(name)
    }

    /// A coordinate variable in the netCDF sense: 1-D, named like its dimension.
    pub fn is_coordinate_variable(&self) -> bool {
        self.dims.len() == 1 && self.dims[0].name == self.name
    }

    /// Full path of the group holding this variable (`/` for the root).
    pub fn group_path(&self) -> &str {
        match self.path.rfind('/') {
            Some(0) | None => "/",
            Some(i) => &self.path[..i],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Group {
    pub name: String,
    /// Full path, `/` for the root group.
    pub path: String,
    pub dimensions: Vec<Dimension>,
    pub variables: Vec<Variable>,
    pub attributes: Vec<Attribute>,
    pub groups: Vec<Group>,
    /// Enumerations, and the variables of user-defined types (see `user_types`).
    #[serde(skip)]
    pub user_types: UserTypes,
}

impl Group {
    /// Every variable of this group and its descendants: a group's own variables
    /// before its subgroups' (the order DAP4 requires).
    pub fn all_variables(&self) -> Vec<&Variable> {
        let mut out: Vec<&Variable> = self.variables.iter().collect();
        for g in &self.groups {
            out.extend(g.all_variables());
        }
        out
    }

    pub fn all_groups(&self) -> Vec<&Group> {
        let mut out = vec![self];
        for g in &self.groups {
            out.extend(g.all_groups());
        }
        out
    }

    pub fn group(&self, path: &str) -> Option<&Group> {
        let path = path.trim_matches('/');
        if path.is_empty() {
            return Some(self);
        }
        let (head, rest) = path.split_once('/').unwrap_or((path, ""));
        self.groups
            .iter()
            .find(|g| g.name == head)
            .and_then(|g| g.group(rest))
    }
}

/// The metadata of a whole dataset: its root group.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct DatasetMeta {
    pub root: Group,
}

impl DatasetMeta {
    /// Roughly the memory the metadata takes: what byte-bounded caches weigh it by.
    pub fn approx_bytes(&self) -> usize {
        fn attrs(a: &[Attribute]) -> usize {
            a.iter()
                .map(|a| {
                    let v = match &a.value {
                        super::AttrValue::Text(t) => t.len(),
                        super::AttrValue::Strings(s) => s.iter().map(|x| x.len() + 24).sum(),
                        other => other.len() * other.dtype().size().unwrap_or(8),
                    };
                    64 + a.name.len() + v
                })
                .sum()
        }
        fn group(g: &Group) -> usize {
            let dims: usize = g.dimensions.iter().map(|d| 80 + 2 * d.path.len()).sum();
            let vars: usize = g
                .variables
                .iter()
                .map(|v| {
                    160 + 2 * v.path.len()
                        + v.dims.iter().map(|d| 64 + 2 * d.path.len()).sum::<usize>()
                        + attrs(&v.attributes)
                })
                .sum();
            120 + g.path.len()
                + dims
                + vars
                + attrs(&g.attributes)
                + g.groups.iter().map(group).sum::<usize>()
        }
        group(&self.root)
    }

    /// Finds a variable by full path (`/g/v`) or, at the root, by bare name (`v`).
    pub fn variable(&self, path: &str) -> Option<&Variable> {
        let full = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        let (group, name) = match full.rfind('/') {
            Some(0) => ("/", &full[1..]),
            Some(i) => (&full[..i], &full[i + 1..]),
            None => return None,
        };
        self.root
            .group(group)?
            .variables
            .iter()
            .find(|v| v.name == name)
    }

    pub fn variables(&self) -> Vec<&Variable> {
        self.root.all_variables()
    }

    pub fn attributes(&self) -> &[Attribute] {
        &self.root.attributes
    }

    /// A dimension by full path.
    pub fn dimension(&self, path: &str) -> Option<&Dimension> {
        let (group, _) = path.rsplit_once('/')?;
        self.root
            .group(group)?
            .dimensions
            .iter()
            .find(|d| d.path == path)
    }

    /// The variable that gives coordinates along `dim`: the 1-D variable named like
    /// the dimension, in the dimension's group.
    pub fn coordinate_variable(&self, dim: &DimRef) -> Option<&Variable> {
        self.variable(&dim.path)
            .filter(|v| v.is_coordinate_variable())
    }
}

// User-defined types in groups. Enum variables hold integers of the enum's base type:
// they stay among a group's `variables` (every protocol can serve integers) and the
// group's `UserTypes` says which of them are enums. Variables of the other kinds are
// not arrays of one atomic type: they live apart, in `UserTypes::variables`, so
// protocols that know only atomic types never see them, and are read with
// `Reader::read_user`.

/// A variable of a compound, vlen or opaque type. `var` gives its name, path,
/// dimensions and attributes; its `dtype` means nothing (`U8`).
#[derive(Debug, Clone, PartialEq)]
pub struct UserVariable {
    pub var: Variable,
    pub ty: ValueType,
    /// Its place among all the group's variables in the file (atomic ones included):
    /// where it is listed, so that clients list variables in the file's order.
    pub position: usize,
}

/// What a group holds of user-defined types.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserTypes {
    /// Enumerations declared in the group.
    pub enums: Vec<Arc<EnumType>>,
    /// The group's variables (in `Group::variables`) of an enum type, by name.
    pub enum_variables: Vec<(String, Arc<EnumType>)>,
    /// The group's variables of compound, vlen and opaque types.
    pub variables: Vec<UserVariable>,
}

impl UserTypes {
    pub fn is_empty(&self) -> bool {
        self.enums.is_empty() && self.enum_variables.is_empty() && self.variables.is_empty()
    }

    /// The enum type of the group's variable `name`, if it is of one.
    pub fn enum_of(&self, name: &str) -> Option<&Arc<EnumType>> {
        self.enum_variables
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e)
    }
}

/// A variable of any type, with its user-defined type if it is not atomic (enums
/// included).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnyVariable<'m> {
    pub var: &'m Variable,
    pub ty: Option<&'m ValueType>,
}

impl Group {
    /// The group's own variables of every type, in the file's order.
    pub fn own_any_variables(&self) -> Vec<AnyVariable<'_>> {
        let mut atomic = self.variables.iter();
        let mut user: Vec<&UserVariable> = self.user_types.variables.iter().collect();
        user.sort_by_key(|u| u.position);
        let mut user = user.into_iter().peekable();
        let mut out = Vec::with_capacity(self.variables.len() + self.user_types.variables.len());
        loop {
            let here = out.len();
            if let Some(u) = user.next_if(|u| u.position <= here) {
                out.push(AnyVariable {
                    var: &u.var,
                    ty: Some(&u.ty),
                });
            } else if let Some(var) = atomic.next() {
                out.push(AnyVariable { var, ty: None });
            } else if let Some(u) = user.next() {
                out.push(AnyVariable {
                    var: &u.var,
                    ty: Some(&u.ty),
                });
            } else {
                return out;
            }
        }
    }

    /// Every variable of this group and its descendants, of every type: a group's own
    /// (in the file's order) before its subgroups' (the order DAP4 requires).
    pub fn all_any_variables(&self) -> Vec<AnyVariable<'_>> {
        let mut out = self.own_any_variables();
        for g in &self.groups {
            out.extend(g.all_any_variables());
        }
        out
    }
}

impl DatasetMeta {
    /// A compound, vlen or opaque variable by full path (`/g/v`) or root name (`v`).
    pub fn user_variable(&self, path: &str) -> Option<&UserVariable> {
        let full = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        let (group, _) = full.rsplit_once('/')?;
        let group = if group.is_empty() { "/" } else { group };
        self.root
            .group(group)?
            .user_types
            .variables
            .iter()
            .find(|u| u.var.path == full)
    }

    /// The enum type of the variable at `path`, if it is of one.
    pub fn enum_of(&self, var: &Variable) -> Option<&Arc<EnumType>> {
        self.root
            .group(var.group_path())?
            .user_types
            .enum_of(&var.name)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::AttrValue;

    #[test]
    fn element_counts_saturate_instead_of_wrapping() {
        let dim = |len| DimRef {
            name: "d".into(),
            path: "/d".into(),
            len,
        };
        let mut v = Variable {
            name: "v".into(),
            path: "/v".into(),
            dims: vec![dim(1 << 40), dim(1 << 40)],
            dtype: DataType::U8,
            attributes: vec![],
            chunks: None,
        };
        assert_eq!(v.num_elements(), usize::MAX);
        v.dims.push(dim(0));
        assert_eq!(
            v.num_elements(),
            0,
            "an empty dimension empties the variable"
        );
        v.dims = vec![dim(3), dim(5)];
        assert_eq!(v.num_elements(), 15);
    }

    pub fn sample() -> DatasetMeta {
        let time = DimRef {
            name: "time".into(),
            path: "/time".into(),
            len: 2,
        };
        let inner = Group {
            name: "fc".into(),
            path: "/fc".into(),
            variables: vec![Variable {
                name: "t".into(),
                path: "/fc/t".into(),
                dims: vec![time.clone()],
                dtype: DataType::F32,
                attributes: vec![],
                chunks: None,
            }],
            ..Default::default()
        };
        DatasetMeta {
            root: Group {
                name: String::new(),
                path: "/".into(),
                dimensions: vec![Dimension {
                    name: "time".into(),
                    path: "/time".into(),
                    len: 2,
                    unlimited: true,
                }],
                variables: vec![Variable {
                    name: "time".into(),
                    path: "/time".into(),
                    dims: vec![time],
                    dtype: DataType::F64,
                    attributes: vec![Attribute::new(
                        "units",
                        AttrValue::Text("days since 2000-01-01".into()),
                    )],
                    chunks: None,
                }],
                attributes: vec![],
                groups: vec![inner],
                user_types: Default::default(),
            },
        }
    }

    #[test]
    fn find_by_path() {
        let m = sample();
        assert_eq!(m.variable("time").unwrap().path, "/time");
        assert_eq!(m.variable("/fc/t").unwrap().name, "t");
        assert!(m.variable("/fc/none").is_none());
        assert!(m.variable("/nogroup/t").is_none());
        assert_eq!(m.variables().len(), 2);
        assert_eq!(m.variable("/fc/t").unwrap().group_path(), "/fc");
        assert!(m.dimension("/time").unwrap().unlimited);
        let t = m.variable("/fc/t").unwrap();
        assert_eq!(m.coordinate_variable(&t.dims[0]).unwrap().path, "/time");
    }

    #[test]
    fn user_variables_are_found_and_listed_in_file_order() {
        let mut meta = sample();
        let var = Variable {
            name: "obs".into(),
            path: "/obs".into(),
            dims: vec![DimRef {
                name: "time".into(),
                path: "/time".into(),
                len: 2,
            }],
            dtype: DataType::U8,
            attributes: vec![],
            chunks: None,
        };
        meta.root.user_types.variables.push(UserVariable {
            var,
            ty: ValueType::Opaque(Arc::new(crate::model::OpaqueType {
                name: "blob".into(),
                path: "/blob".into(),
                size: 4,
            })),
            position: 0,
        });
        let mut meta: DatasetMeta = meta;
        assert_eq!(meta.user_variable("obs").unwrap().var.path, "/obs");
        assert!(meta.user_variable("/fc/obs").is_none());
        assert!(meta.variable("obs").is_none());
        let all: Vec<&str> = meta
            .root
            .all_any_variables()
            .iter()
            .map(|v| v.var.path.as_str())
            .collect();
        assert_eq!(all, ["/obs", "/time", "/fc/t"]);
        meta.root.user_types.variables[0].position = 7;
        let last = meta.root.own_any_variables();
        assert_eq!(last[1].var.path, "/obs");
    }
}
