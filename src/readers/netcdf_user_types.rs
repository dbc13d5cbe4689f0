//! netCDF-C's user-defined types (enum, compound, vlen, opaque) as the model's, and
//! their values decoded from the bytes netCDF-C returns (its in-memory layout: C
//! struct offsets, `nc_vlen_t` and `char*` pointers it allocated, freed here).

use std::sync::Arc;

use netcdf::types::{EnumTypeValues, FloatType, IntType, NcVariableType};

use crate::model::{
    ArrayValues, CompoundType, DataType, EnumType, Field, OpaqueType, Value, ValueType, VlenType,
};

/// The user-defined types visible from a group: (name, full path), innermost last, for
/// netCDF's scoping rule (a type name resolves to the nearest declaration).
pub(super) type TypeScope = Vec<(String, String)>;

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// The name of a user-defined type as netCDF-C reports it.
pub(super) fn type_name(t: &NcVariableType) -> Option<&str> {
    Some(match t {
        NcVariableType::Compound(c) => &c.name,
        NcVariableType::Opaque(o) => &o.name,
        NcVariableType::Enum(e) => &e.name,
        NcVariableType::Vlen(v) => &v.name,
        _ => return None,
    })
}

fn type_path(name: &str, scope: &TypeScope, group: &str) -> String {
    scope
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, p)| p.clone())
        .unwrap_or_else(|| join(group, name))
}

pub(super) fn atomic_type(t: &NcVariableType) -> Option<DataType> {
    Some(match t {
        NcVariableType::Int(IntType::I8) => DataType::I8,
        NcVariableType::Int(IntType::U8) => DataType::U8,
        NcVariableType::Int(IntType::I16) => DataType::I16,
        NcVariableType::Int(IntType::U16) => DataType::U16,
        NcVariableType::Int(IntType::I32) => DataType::I32,
        NcVariableType::Int(IntType::U32) => DataType::U32,
        NcVariableType::Int(IntType::I64) => DataType::I64,
        NcVariableType::Int(IntType::U64) => DataType::U64,
        NcVariableType::Float(FloatType::F32) => DataType::F32,
        NcVariableType::Float(FloatType::F64) => DataType::F64,
        NcVariableType::Char => DataType::Char,
        NcVariableType::String => DataType::String,
        _ => return None,
    })
}

/// An enum type of netCDF-C as the model's.
pub(super) fn enum_type(
    e: &netcdf::types::EnumType,
    scope: &TypeScope,
    group: &str,
) -> Arc<EnumType> {
    fn wide<T: Copy + Into<i128>>(v: &[T]) -> Vec<i128> {
        v.iter().map(|x| (*x).into()).collect()
    }
    let (base, values) = match &e.fieldvalues {
        EnumTypeValues::I8(v) => (DataType::I8, wide(v)),
        EnumTypeValues::U8(v) => (DataType::U8, wide(v)),
        EnumTypeValues::I16(v) => (DataType::I16, wide(v)),
        EnumTypeValues::U16(v) => (DataType::U16, wide(v)),
        EnumTypeValues::I32(v) => (DataType::I32, wide(v)),
        EnumTypeValues::U32(v) => (DataType::U32, wide(v)),
        EnumTypeValues::I64(v) => (DataType::I64, wide(v)),
        EnumTypeValues::U64(v) => (DataType::U64, wide(v)),
    };
    Arc::new(EnumType {
        name: e.name.clone(),
        path: type_path(&e.name, scope, group),
        base,
        members: e.fieldnames.iter().cloned().zip(values).collect(),
    })
}

/// The model's type of a netCDF-C type; `None` for what the model cannot describe (an
/// array field of a non-atomic type).
pub(super) fn value_type(t: &NcVariableType, scope: &TypeScope, group: &str) -> Option<ValueType> {
    if let Some(d) = atomic_type(t) {
        return Some(ValueType::Atomic(d));
    }
    Some(match t {
        NcVariableType::Enum(e) => ValueType::Enum(enum_type(e, scope, group)),
        NcVariableType::Opaque(o) => ValueType::Opaque(Arc::new(OpaqueType {
            name: o.name.clone(),
            path: type_path(&o.name, scope, group),
            size: o.size,
        })),
        NcVariableType::Vlen(v) => ValueType::Vlen(Arc::new(VlenType {
            name: v.name.clone(),
            path: type_path(&v.name, scope, group),
            base: value_type(&v.basetype, scope, group)?,
        })),
        NcVariableType::Compound(c) => {
            let mut fields = Vec::with_capacity(c.fields.len());
            for f in &c.fields {
                let ty = value_type(&f.basetype, scope, group)?;
                let shape = f.arraydims.clone().unwrap_or_default();
                let atomic = matches!(ty, ValueType::Atomic(_) | ValueType::Enum(_));
                if !shape.is_empty() && !atomic {
                    return None;
                }
                fields.push(Field {
                    name: f.name.clone(),
                    ty,
                    shape,
                });
            }
            ValueType::Compound(Arc::new(CompoundType {
                name: c.name.clone(),
                path: type_path(&c.name, scope, group),
                fields,
            }))
        }
        _ => return None,
    })
}

/// Decodes the values netCDF-C wrote into `raw` (`raw.len() / t.size()` of them) and
/// frees what it allocated for them (vlen items, strings). Every pointer in `raw` is
/// freed once, whatever is decoded: the caller must pass every byte netCDF-C filled.
pub(super) fn decode(raw: &[u8], t: &NcVariableType) -> Vec<Value> {
    let size = t.size();
    if size == 0 {
        return Vec::new();
    }
    raw.chunks_exact(size).map(|b| decode_one(b, t)).collect()
}

/// `count` consecutive values of an atomic or enum type, as one array.
fn atomic_values(bytes: &[u8], t: &NcVariableType) -> ArrayValues {
    let dtype = match t {
        NcVariableType::Enum(e) => match e.fieldvalues {
            EnumTypeValues::I8(_) => DataType::I8,
            EnumTypeValues::U8(_) => DataType::U8,
            EnumTypeValues::I16(_) => DataType::I16,
            EnumTypeValues::U16(_) => DataType::U16,
            EnumTypeValues::I32(_) => DataType::I32,
            EnumTypeValues::U32(_) => DataType::U32,
            EnumTypeValues::I64(_) => DataType::I64,
            EnumTypeValues::U64(_) => DataType::U64,
        },
        other => atomic_type(other).unwrap_or(DataType::U8),
    };
    if dtype == DataType::String {
        return ArrayValues::Str(take_strings(bytes));
    }
    ArrayValues::from_ne_bytes(dtype, bytes).unwrap_or(ArrayValues::U8(Vec::new()))
}

fn decode_one(bytes: &[u8], t: &NcVariableType) -> Value {
    match t {
        NcVariableType::Opaque(_) => Value::Opaque(bytes.to_vec()),
        NcVariableType::Compound(c) => Value::Compound(
            c.fields
                .iter()
                .map(|f| {
                    let count: usize = f.arraydims.as_ref().map_or(1, |d| d.iter().product());
                    let len = f.basetype.size() * count;
                    let at = bytes.get(f.offset..f.offset + len).unwrap_or(&[]);
                    match &f.basetype {
                        NcVariableType::Compound(_)
                        | NcVariableType::Vlen(_)
                        | NcVariableType::Opaque(_) => decode_one(at, &f.basetype),
                        base => Value::Atomic(atomic_values(at, base)),
                    }
                })
                .collect(),
        ),
        NcVariableType::Vlen(v) => {
            let word = std::mem::size_of::<usize>();
            let len = usize::from_ne_bytes(bytes[..word].try_into().expect("word"));
            let ptr = usize::from_ne_bytes(bytes[word..2 * word].try_into().expect("word"))
                as *mut std::ffi::c_void;
            let items = if ptr.is_null() || len == 0 {
                Vec::new()
            } else {
                // SAFETY: netCDF-C filled an nc_vlen_t with `len` items of the base type
                // at `ptr`; they are read (and their own allocations freed) before `ptr`.
                let items = unsafe {
                    std::slice::from_raw_parts(ptr as *const u8, len * v.basetype.size())
                };
                match &*v.basetype {
                    NcVariableType::Compound(_)
                    | NcVariableType::Vlen(_)
                    | NcVariableType::Opaque(_) => decode(items, &v.basetype),
                    base => {
                        let all = atomic_values(items, base);
                        split_atomic(all)
                    }
                }
            };
            let mut vl = netcdf_sys::nc_vlen_t { len, p: ptr };
            // SAFETY: `ptr` was allocated by netCDF-C for this vlen and is freed once.
            unsafe { netcdf_sys::nc_free_vlen(&mut vl) };
            Value::Vlen(items)
        }
        other => Value::Atomic(atomic_values(bytes, other)),
    }
}

/// One `Value::Atomic` per element.
fn split_atomic(all: ArrayValues) -> Vec<Value> {
    let n = all.len();
    let mut out = Vec::with_capacity(n);
    macro_rules! each {
        ($v:expr, $variant:path) => {
            for x in $v {
                out.push(Value::Atomic($variant(vec![x])));
            }
        };
    }
    match all {
        ArrayValues::I8(v) => each!(v, ArrayValues::I8),
        ArrayValues::U8(v) => each!(v, ArrayValues::U8),
        ArrayValues::I16(v) => each!(v, ArrayValues::I16),
        ArrayValues::U16(v) => each!(v, ArrayValues::U16),
        ArrayValues::I32(v) => each!(v, ArrayValues::I32),
        ArrayValues::U32(v) => each!(v, ArrayValues::U32),
        ArrayValues::I64(v) => each!(v, ArrayValues::I64),
        ArrayValues::U64(v) => each!(v, ArrayValues::U64),
        ArrayValues::F32(v) => each!(v, ArrayValues::F32),
        ArrayValues::F64(v) => each!(v, ArrayValues::F64),
        ArrayValues::Char(v) => each!(v, ArrayValues::Char),
        ArrayValues::Str(v) => each!(v, ArrayValues::Str),
    }
    out
}

/// The strings behind `char*` pointers netCDF-C allocated, which are freed.
fn take_strings(raw: &[u8]) -> Vec<String> {
    let word = std::mem::size_of::<*mut std::ffi::c_char>();
    raw.chunks_exact(word)
        .map(|c| {
            let mut p =
                usize::from_ne_bytes(c.try_into().expect("pointer size")) as *mut std::ffi::c_char;
            if p.is_null() {
                return String::new();
            }
            // SAFETY: a NUL-terminated string netCDF-C allocated, freed once here.
            let s = unsafe { std::ffi::CStr::from_ptr(p) }
                .to_string_lossy()
                .into_owned();
            unsafe { netcdf_sys::nc_free_string(1, &mut p) };
            s
        })
        .collect()
}
