//! DAP4 encoding of values of user-defined types (DAP4 spec, "Serialization"): a
//! Structure field by field, in declaration order (an array field's values row-major);
//! a Sequence as its record count (8 bytes) then each record; an Opaque as its byte
//! count (8 bytes) then the bytes; enums as their base integers. Counts little-endian,
//! like the rest of the response (`encode`).

use super::encode::encode_values;
use crate::model::{Value, ValueType};

/// Appends the encoding of one value to `out`.
pub fn encode_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Atomic(values) => encode_values(values, out),
        Value::Opaque(bytes) => {
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        Value::Compound(fields) => {
            for f in fields {
                encode_value(f, out);
            }
        }
        Value::Vlen(items) => {
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for item in items {
                encode_value(item, out);
            }
        }
    }
}

/// The fewest bytes one value of `ty` encodes to (strings, sequences and opaques
/// counted by their counts alone): what a request is sized by before it is read.
pub fn min_encoded_len(ty: &ValueType) -> usize {
    match ty {
        ValueType::Atomic(t) => t.size().unwrap_or(8),
        ValueType::Enum(e) => e.base.size().unwrap_or(8),
        ValueType::Opaque(o) => 8usize.saturating_add(o.size),
        ValueType::Compound(c) => c
            .fields
            .iter()
            .map(|f| min_encoded_len(&f.ty).saturating_mul(f.count()))
            .fold(0usize, usize::saturating_add),
        ValueType::Vlen(_) => 8,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::{ArrayValues, CompoundType, DataType, Field, OpaqueType};

    #[test]
    fn structures_field_by_field_sequences_and_opaques_counted() {
        let v = Value::Compound(vec![
            Value::Atomic(ArrayValues::I16(vec![1])),
            Value::Compound(vec![Value::Atomic(ArrayValues::U8(vec![7, 8]))]),
            Value::Vlen(vec![
                Value::Atomic(ArrayValues::I32(vec![-1])),
                Value::Atomic(ArrayValues::I32(vec![2])),
            ]),
            Value::Opaque(vec![0xAB]),
        ]);
        let mut out = Vec::new();
        encode_value(&v, &mut out);
        let mut want = vec![1, 0, 7, 8, 2, 0, 0, 0, 0, 0, 0, 0];
        want.extend([0xFF, 0xFF, 0xFF, 0xFF, 2, 0, 0, 0]);
        want.extend([1, 0, 0, 0, 0, 0, 0, 0, 0xAB]);
        assert_eq!(out, want);
    }

    #[test]
    fn minimum_sizes() {
        let c = ValueType::Compound(Arc::new(CompoundType {
            name: "c".into(),
            path: "/c".into(),
            fields: vec![
                Field {
                    name: "a".into(),
                    ty: ValueType::Atomic(DataType::F64),
                    shape: vec![3],
                },
                Field {
                    name: "o".into(),
                    ty: ValueType::Opaque(Arc::new(OpaqueType {
                        name: "o".into(),
                        path: "/o".into(),
                        size: 5,
                    })),
                    shape: vec![],
                },
            ],
        }));
        assert_eq!(min_encoded_len(&c), 24 + 13);
    }
}
