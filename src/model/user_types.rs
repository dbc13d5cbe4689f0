//! User-defined types of the netCDF-4 enhanced model (= DAP4's constructor types):
//! enumerations, compounds, variable-length sequences and opaque blobs, and the values
//! of variables of those types.
//! Where variables of these types live in a group: `group::UserTypes`.

use std::sync::Arc;

use super::{ArrayValues, DataType};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
