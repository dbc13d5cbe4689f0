//! netCDF-C's user-defined types (enum, compound, vlen, opaque) as the model's, and
//! their values decoded from the bytes netCDF-C returns (its in-memory layout: C
//! struct offsets, `nc_vlen_t` and `char*` pointers it allocated, freed here).

use std::sync::Arc;

use netcdf::types::{EnumTypeValues, FloatType, IntType, NcVariableType};

use crate::model::{
    ArrayValues, AttrValue, CompoundType, DataType, EnumType, Field, OpaqueType, Value, ValueType,
    VlenType,
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
            // SAFETY: a NUL-terminated string netCDF-C allocated.
            let s = unsafe { std::ffi::CStr::from_ptr(p) }
                .to_string_lossy()
                .into_owned();
            // SAFETY: the same string, freed once, after its last use above.
            unsafe { netcdf_sys::nc_free_string(1, &mut p) };
            s
        })
        .collect()
}

/// The `_FillValue` of an enum variable, as integers of the enum's base type (the
/// `netcdf` crate cannot read attributes of user-defined types). Opens the file again:
/// netCDF-C gives no other way to its ids. `None` when there is none.
pub(super) fn enum_fill_value(file: &std::path::Path, var_path: &str) -> Option<AttrValue> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    use netcdf_sys as sys;

    let (group, name) = var_path.rsplit_once('/')?;
    let group = if group.is_empty() { "/" } else { group };
    let (cpath, cgroup) = (
        CString::new(file.as_os_str().as_bytes()).ok()?,
        CString::new(group).ok()?,
    );
    let (cname, cattr) = (CString::new(name).ok()?, CString::new("_FillValue").ok()?);
    let _lock = sys::libnetcdf_lock.lock();
    let mut ncid = 0;
    // SAFETY: plain netCDF-C calls with NUL-terminated names and out-pointers to locals;
    // the file is closed before returning, and the buffer is sized from nc_inq_att and
    // nc_inq_user_type.
    unsafe {
        let before = super::netcdf_open::OpenFiles::now();
        if sys::nc_open(cpath.as_ptr(), sys::NC_NOWRITE, &mut ncid) != sys::NC_NOERR {
            before.close_newer();
            return None;
        }
        let read = || -> Option<AttrValue> {
            let mut gid = ncid;
            if group != "/"
                && sys::nc_inq_grp_full_ncid(ncid, cgroup.as_ptr(), &mut gid) != sys::NC_NOERR
            {
                return None;
            }
            let mut varid = 0;
            if sys::nc_inq_varid(gid, cname.as_ptr(), &mut varid) != sys::NC_NOERR {
                return None;
            }
            let (mut xtype, mut len) = (0, 0usize);
            if sys::nc_inq_att(gid, varid, cattr.as_ptr(), &mut xtype, &mut len) != sys::NC_NOERR {
                return None;
            }
            let mut tname = vec![0 as std::ffi::c_char; sys::NC_MAX_NAME as usize + 1];
            let (mut size, mut base, mut nfields, mut class) = (0usize, 0, 0usize, 0);
            let found = sys::nc_inq_user_type(
                gid,
                xtype,
                tname.as_mut_ptr(),
                &mut size,
                &mut base,
                &mut nfields,
                &mut class,
            );
            if found != sys::NC_NOERR || class != sys::NC_ENUM {
                return None;
            }
            let dtype = match base {
                sys::NC_BYTE => DataType::I8,
                sys::NC_UBYTE => DataType::U8,
                sys::NC_SHORT => DataType::I16,
                sys::NC_USHORT => DataType::U16,
                sys::NC_INT => DataType::I32,
                sys::NC_UINT => DataType::U32,
                sys::NC_INT64 => DataType::I64,
                sys::NC_UINT64 => DataType::U64,
                _ => return None,
            };
            let mut buf = vec![0u8; len.checked_mul(dtype.size()?)?];
            if sys::nc_get_att(gid, varid, cattr.as_ptr(), buf.as_mut_ptr().cast()) != sys::NC_NOERR
            {
                return None;
            }
            Some(match ArrayValues::from_ne_bytes(dtype, &buf)? {
                ArrayValues::I8(v) => AttrValue::I8(v),
                ArrayValues::U8(v) => AttrValue::U8(v),
                ArrayValues::I16(v) => AttrValue::I16(v),
                ArrayValues::U16(v) => AttrValue::U16(v),
                ArrayValues::I32(v) => AttrValue::I32(v),
                ArrayValues::U32(v) => AttrValue::U32(v),
                ArrayValues::I64(v) => AttrValue::I64(v),
                ArrayValues::U64(v) => AttrValue::U64(v),
                _ => return None,
            })
        };
        let value = read();
        sys::nc_close(ncid);
        value
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use crate::model::{ArrayValues, AttrValue, DataType, Value, ValueType};
    use crate::readers::{LocalReads, ReadError, Reader, ReadersConfig, open};
    use crate::storage::{Location, Storage};
    use crate::subset::{DimSlice, Hyperslab};

    /// Every kind of user-defined type, nested and in a subgroup, written by ncgen (the
    /// netCDF-C tools are test dependencies: `scripts/setup-system.sh --test`).
    const CDL: &str = r#"netcdf user {
types:
  ubyte enum cloud_t {clear = 0, cumulus = 1, missing = 255} ;
  opaque(3) blob_t ;
  compound pos_t { float lat ; float lon ; } ;
  compound obs_t { int id ; pos_t pos ; double levels(2) ; string name ; } ;
  int(*) vint_t ;
  pos_t(*) track_t ;
dimensions:
  x = 3 ;
variables:
  cloud_t cloud(x) ;
    cloud_t cloud:_FillValue = missing ;
  obs_t obs(x) ;
    obs:units = "mixed" ;
  vint_t ragged(x) ;
  float temp(x) ;
  blob_t blob(x) ;
data:
  cloud = clear, cumulus, missing ;
  obs = {1, {1.5, 2.5}, {10, 11}, "a"}, {2, {3.5, 4.5}, {20, 21}, "bé"}, {3, {5.5, 6.5}, {30, 31}, ""} ;
  ragged = {1, 2, 3}, {}, {-7} ;
  temp = 1, 2, 3 ;
  blob = 0X010203, 0XAABBCC, 0X000000 ;
group: sub {
  variables:
    track_t track ;
    cloud_t sky ;
  data:
    track = {{1, 2}, {3, 4}} ;
    sky = cumulus ;
  }
}
"#;

    fn write(dir: &Path) -> std::path::PathBuf {
        let cdl = dir.join("user.cdl");
        std::fs::write(&cdl, CDL).unwrap();
        let nc = dir.join("user.nc");
        let status = std::process::Command::new("ncgen")
            .args(["-4", "-o"])
            .arg(&nc)
            .arg(&cdl)
            .status()
            .expect("ncgen (netcdf-bin) is installed");
        assert!(status.success());
        nc
    }

    async fn reader(path: &Path) -> Arc<dyn Reader> {
        let config = ReadersConfig {
            local_reads: LocalReads::Native,
            ..Default::default()
        };
        open(
            &Location::Local(path.to_path_buf()),
            &Arc::new(Storage::default()),
            &config,
        )
        .await
        .unwrap()
    }

    fn ints(v: &Value) -> &ArrayValues {
        let Value::Atomic(a) = v else { panic!("{v:?}") };
        a
    }

    #[tokio::test]
    async fn describes_and_reads_every_kind() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path());
        // The pure-Rust reader leaves the file to netCDF-C (natively configured too).
        let r = reader(&path).await;
        let meta = r.metadata();

        let cloud = meta.variable("cloud").unwrap();
        assert_eq!(cloud.dtype, DataType::U8);
        let e = meta.enum_of(cloud).unwrap();
        assert_eq!(e.path, "/cloud_t");
        assert_eq!(e.members[2], ("missing".to_string(), 255));
        assert_eq!(meta.root.user_types.enums.len(), 1);
        // An attribute of the enum type: the `netcdf` crate cannot read it.
        assert_eq!(cloud.attr("_FillValue"), Some(&AttrValue::U8(vec![255])));
        let v = r.read("/cloud", &Hyperslab::full(&[3])).await.unwrap();
        assert_eq!(v.values, ArrayValues::U8(vec![0, 1, 255]));
        // An enum of the root used in a subgroup is declared once, at the root.
        let sub = meta.root.group("/sub").unwrap();
        assert!(sub.user_types.enums.is_empty());
        assert_eq!(sub.user_types.enum_of("sky").unwrap().path, "/cloud_t");

        let obs = meta.user_variable("obs").unwrap();
        assert_eq!(obs.position, 1);
        assert_eq!(
            obs.var.attr("units").unwrap().as_text().as_deref(),
            Some("mixed")
        );
        let ValueType::Compound(c) = &obs.ty else {
            panic!()
        };
        assert_eq!(c.path, "/obs_t");
        assert_eq!(c.fields[2].shape, vec![2]);
        assert!(matches!(&c.fields[1].ty, ValueType::Compound(p) if p.name == "pos_t"));
        let slab = Hyperslab::new(vec![DimSlice::from_inclusive(0, 1, 1, 2, 3).unwrap()]);
        let a = r.read_user("/obs", &slab).await.unwrap();
        assert_eq!(a.shape, vec![2]);
        let Value::Compound(f) = &a.values[0] else {
            panic!()
        };
        assert_eq!(ints(&f[0]), &ArrayValues::I32(vec![2]));
        assert_eq!(
            f[1],
            Value::Compound(vec![
                Value::Atomic(ArrayValues::F32(vec![3.5])),
                Value::Atomic(ArrayValues::F32(vec![4.5])),
            ])
        );
        assert_eq!(ints(&f[2]), &ArrayValues::F64(vec![20.0, 21.0]));
        assert_eq!(ints(&f[3]), &ArrayValues::Str(vec!["bé".into()]));

        let ragged = r
            .read_user("/ragged", &Hyperslab::full(&[3]))
            .await
            .unwrap();
        let lens: Vec<usize> = ragged
            .values
            .iter()
            .map(|v| match v {
                Value::Vlen(items) => items.len(),
                _ => panic!(),
            })
            .collect();
        assert_eq!(lens, [3, 0, 1]);
        assert_eq!(
            ragged.values[2],
            Value::Vlen(vec![Value::Atomic(ArrayValues::I32(vec![-7]))])
        );

        let blob = meta.user_variable("blob").unwrap();
        assert!(matches!(&blob.ty, ValueType::Opaque(o) if o.size == 3));
        let b = r.read_user("/blob", &Hyperslab::full(&[3])).await.unwrap();
        assert_eq!(b.values[1], Value::Opaque(vec![0xAA, 0xBB, 0xCC]));

        // A scalar vlen of compounds in a subgroup.
        let track = r
            .read_user("/sub/track", &Hyperslab::full(&[]))
            .await
            .unwrap();
        let Value::Vlen(points) = &track.values[0] else {
            panic!()
        };
        assert_eq!(points.len(), 2);

        // Atomic reads of user-typed variables, and user reads of atomic ones, fail.
        assert!(matches!(
            r.read("/obs", &Hyperslab::full(&[3])).await,
            Err(ReadError::NoSuchVariable(_))
        ));
        assert!(r.read_user("/temp", &Hyperslab::full(&[3])).await.is_err());
        let bad = Hyperslab::new(vec![DimSlice::index(3)]);
        assert!(matches!(
            r.read_user("/obs", &bad).await,
            Err(ReadError::Subset(_))
        ));
    }
}
