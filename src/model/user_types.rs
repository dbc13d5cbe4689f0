//! User-defined types of the netCDF-4 enhanced model (= DAP4's constructor types):
//! enumerations, compounds, variable-length sequences and opaque blobs, and the values
//! of variables of those types.
//!
//! Enum variables hold integers of the enum's base type: they stay among a group's
//! `variables` (every protocol can serve integers) and the group's `UserTypes` says
//! which of them are enums. Variables of the other kinds are not arrays of one atomic
//! type: they live apart, in `UserTypes::variables`, so protocols that know only atomic
//! types never see them, and are read with `Reader::read_user`.

use std::sync::Arc;

use super::{ArrayValues, DataType, Group, Variable};

/// An enumeration: named values of an integer base type.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumType {
    pub name: String,
    /// Full path of the type (`/cloud_t`, `/g/cloud_t`): where it is declared.
    pub path: String,
    pub base: DataType,
    /// (name, value), in declaration order. i128 holds every i64 and u64 value.
    pub members: Vec<(String, i128)>,
}

/// A fixed-size blob of bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct OpaqueType {
    pub name: String,
    pub path: String,
    pub size: usize,
}

/// One field of a compound type; `shape` is empty for a scalar field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: ValueType,
    pub shape: Vec<usize>,
}

impl Field {
    pub fn count(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A record of named fields (a C struct; DAP4's Structure).
#[derive(Debug, Clone, PartialEq)]
pub struct CompoundType {
    pub name: String,
    pub path: String,
    pub fields: Vec<Field>,
}

/// A variable-length sequence of values of one type.
#[derive(Debug, Clone, PartialEq)]
pub struct VlenType {
    pub name: String,
    pub path: String,
    pub base: ValueType,
}

/// The type of a value: atomic or user-defined.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueType {
    Atomic(DataType),
    Enum(Arc<EnumType>),
    Opaque(Arc<OpaqueType>),
    Compound(Arc<CompoundType>),
    Vlen(Arc<VlenType>),
}

impl ValueType {
    /// Bytes one value takes at least (vlen and string items counted as none), for
    /// sizing reads; saturating.
    pub fn min_size(&self) -> usize {
        match self {
            ValueType::Atomic(t) => t.size().unwrap_or(0),
            ValueType::Enum(e) => e.base.size().unwrap_or(0),
            ValueType::Opaque(o) => o.size,
            ValueType::Compound(c) => c
                .fields
                .iter()
                .map(|f| f.ty.min_size().saturating_mul(f.count()))
                .fold(0usize, usize::saturating_add),
            ValueType::Vlen(_) => 0,
        }
    }

    /// Whether values have one size (no vlen or string inside).
    pub fn is_fixed_size(&self) -> bool {
        match self {
            ValueType::Atomic(t) => t.size().is_some(),
            ValueType::Enum(_) | ValueType::Opaque(_) => true,
            ValueType::Compound(c) => c.fields.iter().all(|f| f.ty.is_fixed_size()),
            ValueType::Vlen(_) => false,
        }
    }
}

/// One value of a user-defined type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Values of an atomic or enum type: one, or an array field's, in row-major order.
    Atomic(ArrayValues),
    Opaque(Vec<u8>),
    /// One value per field, in the type's field order.
    Compound(Vec<Value>),
    /// The items of a variable-length sequence.
    Vlen(Vec<Value>),
}

/// A slab of a user-typed variable: its shape and its values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct UserArray {
    pub shape: Vec<usize>,
    pub values: Vec<Value>,
}

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

impl super::DatasetMeta {
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
mod tests {
    use super::*;
    use crate::model::{DatasetMeta, DimRef};

    fn compound() -> ValueType {
        let inner = Arc::new(CompoundType {
            name: "pos_t".into(),
            path: "/pos_t".into(),
            fields: vec![
                Field {
                    name: "lat".into(),
                    ty: ValueType::Atomic(DataType::F32),
                    shape: vec![],
                },
                Field {
                    name: "lon".into(),
                    ty: ValueType::Atomic(DataType::F32),
                    shape: vec![],
                },
            ],
        });
        ValueType::Compound(Arc::new(CompoundType {
            name: "obs_t".into(),
            path: "/obs_t".into(),
            fields: vec![
                Field {
                    name: "id".into(),
                    ty: ValueType::Atomic(DataType::I32),
                    shape: vec![],
                },
                Field {
                    name: "pos".into(),
                    ty: ValueType::Compound(inner),
                    shape: vec![],
                },
                Field {
                    name: "spectrum".into(),
                    ty: ValueType::Atomic(DataType::F64),
                    shape: vec![2, 3],
                },
            ],
        }))
    }

    #[test]
    fn sizes() {
        let c = compound();
        assert_eq!(c.min_size(), 4 + 8 + 48);
        assert!(c.is_fixed_size());
        let v = ValueType::Vlen(Arc::new(VlenType {
            name: "v_t".into(),
            path: "/v_t".into(),
            base: ValueType::Atomic(DataType::I32),
        }));
        assert!(!v.is_fixed_size());
        assert_eq!(v.min_size(), 0);
    }

    #[test]
    fn user_variables_are_found_and_listed_in_file_order() {
        let mut meta = crate::model::group::tests::sample();
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
            ty: compound(),
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
