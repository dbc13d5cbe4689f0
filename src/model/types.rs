//! Atomic data types and typed n-dimensional arrays of the netCDF-4 enhanced model.

use serde::Serialize;

/// The atomic types of the netCDF-4 enhanced model (= DAP4's atomic types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataType {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
    /// netCDF `char`: one byte of text.
    Char,
    /// Variable-length UTF-8 string.
    String,
}

impl DataType {
    /// Size in bytes of one element; `None` for variable-length strings.
    pub fn size(self) -> Option<usize> {
        Some(match self {
            DataType::I8 | DataType::U8 | DataType::Char => 1,
            DataType::I16 | DataType::U16 => 2,
            DataType::I32 | DataType::U32 | DataType::F32 => 4,
            DataType::I64 | DataType::U64 | DataType::F64 => 8,
            DataType::String => return None,
        })
    }

    pub fn is_numeric(self) -> bool {
        !matches!(self, DataType::Char | DataType::String)
    }

    pub fn is_float(self) -> bool {
        matches!(self, DataType::F32 | DataType::F64)
    }

    /// Lower-case short name (`i8`, `f32`, `char`, `string`), as in `/datasets`.
    pub fn name(self) -> &'static str {
        match self {
            DataType::I8 => "i8",
            DataType::U8 => "u8",
            DataType::I16 => "i16",
            DataType::U16 => "u16",
            DataType::I32 => "i32",
            DataType::U32 => "u32",
            DataType::I64 => "i64",
            DataType::U64 => "u64",
            DataType::F32 => "f32",
            DataType::F64 => "f64",
            DataType::Char => "char",
            DataType::String => "string",
        }
    }
}

/// Values of one array, flat in row-major (C) order.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayValues {
    I8(Vec<i8>),
    U8(Vec<u8>),
    I16(Vec<i16>),
    U16(Vec<u16>),
    I32(Vec<i32>),
    U32(Vec<u32>),
    I64(Vec<i64>),
    U64(Vec<u64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Char(Vec<u8>),
    Str(Vec<String>),
}

/// Applies the same expression to the vector inside any numeric variant.
#[macro_export]
macro_rules! for_each_numeric {
    ($values:expr, $v:ident => $body:expr, char $c:ident => $cbody:expr, str $s:ident => $sbody:expr) => {
        match $values {
            $crate::model::ArrayValues::I8($v) => $body,
            $crate::model::ArrayValues::U8($v) => $body,
            $crate::model::ArrayValues::I16($v) => $body,
            $crate::model::ArrayValues::U16($v) => $body,
            $crate::model::ArrayValues::I32($v) => $body,
            $crate::model::ArrayValues::U32($v) => $body,
            $crate::model::ArrayValues::I64($v) => $body,
            $crate::model::ArrayValues::U64($v) => $body,
            $crate::model::ArrayValues::F32($v) => $body,
            $crate::model::ArrayValues::F64($v) => $body,
            $crate::model::ArrayValues::Char($c) => $cbody,
            $crate::model::ArrayValues::Str($s) => $sbody,
        }
    };
}

impl ArrayValues {
    pub fn dtype(&self) -> DataType {
        match self {
            ArrayValues::I8(_) => DataType::I8,
            ArrayValues::U8(_) => DataType::U8,
            ArrayValues::I16(_) => DataType::I16,
            ArrayValues::U16(_) => DataType::U16,
            ArrayValues::I32(_) => DataType::I32,
            ArrayValues::U32(_) => DataType::U32,
            ArrayValues::I64(_) => DataType::I64,
            ArrayValues::U64(_) => DataType::U64,
            ArrayValues::F32(_) => DataType::F32,
            ArrayValues::F64(_) => DataType::F64,
            ArrayValues::Char(_) => DataType::Char,
            ArrayValues::Str(_) => DataType::String,
        }
    }

    pub fn len(&self) -> usize {
        for_each_numeric!(self, v => v.len(), char c => c.len(), str s => s.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` as f64 (numeric types only; char gives its byte, string NaN).
    pub fn get_f64(&self, i: usize) -> f64 {
        for_each_numeric!(self, v => v[i] as f64, char c => c[i] as f64, str _s => f64::NAN)
    }

    /// All values as f64, raw (no CF decoding). Strings become NaN.
    pub fn to_f64(&self) -> Vec<f64> {
        for_each_numeric!(self,
            v => v.iter().map(|x| *x as f64).collect(),
            char c => c.iter().map(|x| *x as f64).collect(),
            str s => vec![f64::NAN; s.len()])
    }

    /// Builds values of `dtype` from native-endian bytes (numeric and char types).
    pub fn from_ne_bytes(dtype: DataType, bytes: &[u8]) -> Option<ArrayValues> {
        // One copy into the typed vector (a memcpy; bytes need no alignment): a
        // value-by-value conversion was a tenth of a DAP2 subset's time.
        fn conv<T: bytemuck::Pod, const N: usize>(b: &[u8], _: fn([u8; N]) -> T) -> Vec<T> {
            let whole = b.len() - b.len() % N;
            bytemuck::pod_collect_to_vec(&b[..whole])
        }
        Some(match dtype {
            DataType::I8 => ArrayValues::I8(bytes.iter().map(|b| *b as i8).collect()),
            DataType::U8 => ArrayValues::U8(bytes.to_vec()),
            DataType::Char => ArrayValues::Char(bytes.to_vec()),
            DataType::I16 => ArrayValues::I16(conv(bytes, i16::from_ne_bytes)),
            DataType::U16 => ArrayValues::U16(conv(bytes, u16::from_ne_bytes)),
            DataType::I32 => ArrayValues::I32(conv(bytes, i32::from_ne_bytes)),
            DataType::U32 => ArrayValues::U32(conv(bytes, u32::from_ne_bytes)),
            DataType::I64 => ArrayValues::I64(conv(bytes, i64::from_ne_bytes)),
            DataType::U64 => ArrayValues::U64(conv(bytes, u64::from_ne_bytes)),
            DataType::F32 => ArrayValues::F32(conv(bytes, f32::from_ne_bytes)),
            DataType::F64 => ArrayValues::F64(conv(bytes, f64::from_ne_bytes)),
            DataType::String => return None,
        })
    }

    /// `n` zero values of `dtype` (numeric and char types), to be filled in place
    /// through `as_bytes_mut`: readers decode straight into the answer's storage.
    pub fn zeroed(dtype: DataType, n: usize) -> Option<ArrayValues> {
        Some(match dtype {
            DataType::I8 => ArrayValues::I8(vec![0; n]),
            DataType::U8 => ArrayValues::U8(vec![0; n]),
            DataType::Char => ArrayValues::Char(vec![0; n]),
            DataType::I16 => ArrayValues::I16(vec![0; n]),
            DataType::U16 => ArrayValues::U16(vec![0; n]),
            DataType::I32 => ArrayValues::I32(vec![0; n]),
            DataType::U32 => ArrayValues::U32(vec![0; n]),
            DataType::I64 => ArrayValues::I64(vec![0; n]),
            DataType::U64 => ArrayValues::U64(vec![0; n]),
            DataType::F32 => ArrayValues::F32(vec![0.0; n]),
            DataType::F64 => ArrayValues::F64(vec![0.0; n]),
            DataType::String => return None,
        })
    }

    /// The values' native-endian bytes, writable (numeric and char types).
    pub fn as_bytes_mut(&mut self) -> Option<&mut [u8]> {
        for_each_numeric!(self,
            v => Some(bytemuck::cast_slice_mut(v.as_mut_slice())),
            char c => Some(c.as_mut_slice()),
            str _s => None)
    }

    /// Appends the values of `other` (same type) to these.
    pub fn extend(&mut self, other: ArrayValues) -> Result<(), ArrayValues> {
        match (self, other) {
            (ArrayValues::I8(a), ArrayValues::I8(b)) => a.extend(b),
            (ArrayValues::U8(a), ArrayValues::U8(b)) => a.extend(b),
            (ArrayValues::I16(a), ArrayValues::I16(b)) => a.extend(b),
            (ArrayValues::U16(a), ArrayValues::U16(b)) => a.extend(b),
            (ArrayValues::I32(a), ArrayValues::I32(b)) => a.extend(b),
            (ArrayValues::U32(a), ArrayValues::U32(b)) => a.extend(b),
            (ArrayValues::I64(a), ArrayValues::I64(b)) => a.extend(b),
            (ArrayValues::U64(a), ArrayValues::U64(b)) => a.extend(b),
            (ArrayValues::F32(a), ArrayValues::F32(b)) => a.extend(b),
            (ArrayValues::F64(a), ArrayValues::F64(b)) => a.extend(b),
            (ArrayValues::Char(a), ArrayValues::Char(b)) => a.extend(b),
            (ArrayValues::Str(a), ArrayValues::Str(b)) => a.extend(b),
            (_, other) => return Err(other),
        }
        Ok(())
    }
}

/// A typed n-dimensional array: shape plus row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub values: ArrayValues,
}

impl Array {
    pub fn new(shape: Vec<usize>, values: ArrayValues) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        Array { shape, values }
    }

    pub fn dtype(&self) -> DataType {
        self.values.dtype()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_values_filled_through_their_bytes() {
        let mut v = ArrayValues::zeroed(DataType::F32, 2).unwrap();
        v.as_bytes_mut()
            .unwrap()
            .copy_from_slice(&[1.5f32.to_ne_bytes(), (-2f32).to_ne_bytes()].concat());
        assert_eq!(v, ArrayValues::F32(vec![1.5, -2.0]));
        assert!(ArrayValues::zeroed(DataType::String, 1).is_none());
        assert!(ArrayValues::Str(vec![]).as_bytes_mut().is_none());
    }

    #[test]
    fn from_ne_bytes_roundtrip() {
        let v: Vec<i16> = vec![-2, 7, 300];
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_ne_bytes()).collect();
        assert_eq!(
            ArrayValues::from_ne_bytes(DataType::I16, &bytes),
            Some(ArrayValues::I16(v))
        );
        assert_eq!(ArrayValues::from_ne_bytes(DataType::String, &bytes), None);
    }

    #[test]
    fn extend_rejects_other_type() {
        let mut a = ArrayValues::F32(vec![1.0]);
        assert!(a.extend(ArrayValues::F32(vec![2.0])).is_ok());
        assert_eq!(a.len(), 2);
        assert!(a.extend(ArrayValues::I8(vec![1])).is_err());
    }
}
