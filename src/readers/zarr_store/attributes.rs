//! Zarr JSON values as model values: data types, attributes and fill values, the way
//! xarray reads them (so a Zarr store served by datagate decodes like the store itself).

use base64::Engine;
use serde_json::{Map, Value};

use crate::model::{AttrValue, Attribute, DataType};

/// How values of an array are retrieved from zarrs and stored in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// Booleans, served as `u8` 0/1 (as netCDF stores them).
    Bool,
    Number(DataType),
    String,
}

impl Element {
    pub fn dtype(self) -> DataType {
        match self {
            Element::Bool => DataType::U8,
            Element::Number(t) => t,
            Element::String => DataType::String,
        }
    }
}

/// The element type of an array's metadata document (`None`: not one the model has,
/// such as datetime64, fixed-length strings or structured types).
pub fn element(metadata: &Value, v3: bool) -> Option<Element> {
    let name = if v3 {
        match metadata.get("data_type")? {
            Value::String(s) => s.as_str(),
            other => other.get("name")?.as_str()?,
        }
    } else {
        let dtype = metadata.get("dtype")?.as_str()?;
        let bare = dtype.trim_start_matches(['<', '>', '|', '=']);
        if bare == "O" {
            let utf8 = metadata
                .get("filters")
                .and_then(Value::as_array)
                .is_some_and(|f| f.iter().any(|c| c.get("id") == Some(&"vlen-utf8".into())));
            return utf8.then_some(Element::String);
        }
        bare
    };
    Some(match name {
        "bool" | "b1" => Element::Bool,
        "int8" | "i1" => Element::Number(DataType::I8),
        "uint8" | "u1" => Element::Number(DataType::U8),
        "int16" | "i2" => Element::Number(DataType::I16),
        "uint16" | "u2" => Element::Number(DataType::U16),
        "int32" | "i4" => Element::Number(DataType::I32),
        "uint32" | "u4" => Element::Number(DataType::U32),
        "int64" | "i8" => Element::Number(DataType::I64),
        "uint64" | "u8" => Element::Number(DataType::U64),
        "float32" | "f4" => Element::Number(DataType::F32),
        "float64" | "f8" => Element::Number(DataType::F64),
        "string" => Element::String,
        _ => return None,
    })
}

/// A JSON number or Zarr's non-finite spellings as f64.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            // v3 spells exact float bit patterns in hex.
            hex if hex.starts_with("0x") => {
                let bits = u64::from_str_radix(&hex[2..], 16).ok()?;
                Some(if hex.len() <= 10 {
                    f64::from(f32::from_bits(bits as u32))
                } else {
                    f64::from_bits(bits)
                })
            }
            _ => None,
        },
        _ => None,
    }
}

/// Numbers typed as `dtype` (integers from JSON integers exactly, not through f64).
fn typed(values: &[Value], dtype: DataType) -> Option<AttrValue> {
    fn ints<T: TryFrom<i128>>(values: &[Value]) -> Option<Vec<T>> {
        values
            .iter()
            .map(|v| {
                let i = match v {
                    Value::Number(n) => n
                        .as_i64()
                        .map(i128::from)
                        .or_else(|| n.as_u64().map(i128::from))
                        .or_else(|| n.as_f64().map(|f| f as i128))?,
                    other => number(other)? as i128,
                };
                T::try_from(i).ok()
            })
            .collect()
    }
    let floats = || values.iter().map(number).collect::<Option<Vec<f64>>>();
    Some(match dtype {
        DataType::I8 => AttrValue::I8(ints(values)?),
        DataType::U8 | DataType::Char => AttrValue::U8(ints(values)?),
        DataType::I16 => AttrValue::I16(ints(values)?),
        DataType::U16 => AttrValue::U16(ints(values)?),
        DataType::I32 => AttrValue::I32(ints(values)?),
        DataType::U32 => AttrValue::U32(ints(values)?),
        DataType::I64 => AttrValue::I64(ints(values)?),
        DataType::U64 => AttrValue::U64(ints(values)?),
        DataType::F32 => AttrValue::F32(floats()?.into_iter().map(|f| f as f32).collect()),
        DataType::F64 => AttrValue::F64(floats()?),
        DataType::String => return None,
    })
}

/// Attributes whose values CF wants in the variable's own type.
const TYPED_LIKE_DATA: &[&str] = &[
    "_FillValue",
    "missing_value",
    "valid_min",
    "valid_max",
    "valid_range",
];

/// A JSON attribute as a model attribute: integers as i32 when they fit (else i64),
/// floats as f64, strings as text, lists of strings as strings; other shapes (objects,
/// mixed lists) as their JSON text; nulls dropped.
pub fn attr_value(v: &Value) -> Option<AttrValue> {
    let list = match v {
        Value::Null => return None,
        Value::String(s) => return Some(AttrValue::Text(s.clone())),
        Value::Array(items) => items.clone(),
        Value::Object(_) => return Some(AttrValue::Text(v.to_string())),
        scalar => vec![scalar.clone()],
    };
    if !list.is_empty() && list.iter().all(Value::is_string) {
        let strings = list.iter().filter_map(Value::as_str).map(str::to_string);
        return Some(AttrValue::Strings(strings.collect()));
    }
    let all = |f: fn(&Value) -> bool| !list.is_empty() && list.iter().all(f);
    if all(|x| x.is_i64() || x.is_u64() || x.is_boolean()) {
        return typed(&list, DataType::I32).or_else(|| typed(&list, DataType::I64));
    }
    if all(Value::is_number) {
        return typed(&list, DataType::F64);
    }
    Some(AttrValue::Text(v.to_string()))
}

/// The attributes of a node, minus Zarr bookkeeping (`_ARRAY_DIMENSIONS`, nczarr's).
/// `dtype`: the array's type, which CF's fill and range attributes take.
pub fn attributes(json: &Map<String, Value>, dtype: Option<DataType>) -> Vec<Attribute> {
    json.iter()
        .filter(|(name, _)| name.as_str() != "_ARRAY_DIMENSIONS" && !name.starts_with("_nczarr"))
        .filter_map(|(name, v)| {
            let value = match dtype {
                Some(t) if TYPED_LIKE_DATA.contains(&name.as_str()) && t.is_numeric() => {
                    let list = match v {
                        Value::Array(items) => items.clone(),
                        one => vec![one.clone()],
                    };
                    typed(&list, t).or_else(|| attr_value(v))
                }
                _ => attr_value(v),
            }?;
            Some(Attribute::new(name, value))
        })
        .collect()
}

/// The `_FillValue` attribute xarray would see for an array. v2: the metadata's
/// `fill_value` (xarray masks with it). v3: the `_FillValue` attribute, base64 of a
/// little-endian f64 for floats (xarray's encoding) or a number.
pub fn fill_value(
    metadata: &Value,
    attrs: &Map<String, Value>,
    v3: bool,
    dtype: DataType,
) -> Option<AttrValue> {
    if !dtype.is_numeric() {
        return None;
    }
    let raw = if v3 {
        attrs.get("_FillValue")?
    } else {
        metadata.get("fill_value")?
    };
    let decoded = match raw {
        Value::String(s) if v3 && !s.starts_with("0x") && number(raw).is_none() => {
            let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
            let f = match bytes.len() {
                8 => f64::from_le_bytes(bytes.try_into().ok()?),
                4 => f64::from(f32::from_le_bytes(bytes.try_into().ok()?)),
                _ => return None,
            };
            serde_json::Number::from_f64(f).map_or(Value::String("NaN".into()), Value::Number)
        }
        other => other.clone(),
    };
    if decoded.is_null() {
        return None;
    }
    typed(std::slice::from_ref(&decoded), dtype)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elements() {
        assert_eq!(
            element(&json!({"dtype": "<f4"}), false),
            Some(Element::Number(DataType::F32))
        );
        assert_eq!(
            element(&json!({"dtype": ">i2"}), false),
            Some(Element::Number(DataType::I16))
        );
        assert_eq!(
            element(&json!({"dtype": "|b1"}), false),
            Some(Element::Bool)
        );
        assert_eq!(
            element(
                &json!({"dtype": "|O", "filters": [{"id": "vlen-utf8"}]}),
                false
            ),
            Some(Element::String)
        );
        assert_eq!(element(&json!({"dtype": "|O"}), false), None);
        assert_eq!(element(&json!({"dtype": "<M8[ns]"}), false), None);
        assert_eq!(
            element(&json!({"data_type": "uint16"}), true),
            Some(Element::Number(DataType::U16))
        );
        assert_eq!(
            element(&json!({"data_type": {"name": "float64"}}), true),
            Some(Element::Number(DataType::F64))
        );
        assert_eq!(element(&json!({}), true), None);
    }

    #[test]
    fn attribute_values() {
        assert_eq!(attr_value(&json!("K")), Some(AttrValue::Text("K".into())));
        assert_eq!(attr_value(&json!(3)), Some(AttrValue::I32(vec![3])));
        assert_eq!(
            attr_value(&json!(1u64 << 40)),
            Some(AttrValue::I64(vec![1 << 40]))
        );
        assert_eq!(
            attr_value(&json!([0.5, 1])),
            Some(AttrValue::F64(vec![0.5, 1.0]))
        );
        assert_eq!(
            attr_value(&json!(["a", "b"])),
            Some(AttrValue::Strings(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            attr_value(&json!({"x": 1})),
            Some(AttrValue::Text("{\"x\":1}".into()))
        );
        assert_eq!(attr_value(&json!(null)), None);
        assert_eq!(attr_value(&json!([])), Some(AttrValue::Text("[]".into())));
        let attrs = attributes(
            json!({"_ARRAY_DIMENSIONS": ["t"], "valid_range": [0, 10], "units": "m"})
                .as_object()
                .unwrap(),
            Some(DataType::I16),
        );
        assert_eq!(attrs.len(), 2);
        let range = attrs.iter().find(|a| a.name == "valid_range").unwrap();
        assert_eq!(range.value, AttrValue::I16(vec![0, 10]));
    }

    #[test]
    fn fill_values() {
        let f4 = DataType::F32;
        let v2 = |fv: Value| fill_value(&json!({"fill_value": fv}), &Map::new(), false, f4);
        assert!(matches!(v2(json!("NaN")), Some(AttrValue::F32(v)) if v[0].is_nan()));
        assert_eq!(v2(json!(-999)), Some(AttrValue::F32(vec![-999.0])));
        assert_eq!(v2(json!(null)), None);
        // xarray's v3 encoding: base64 of a little-endian f64.
        let attrs = json!({"_FillValue": "AAAAAAAA+H8="});
        let nan = fill_value(
            &json!({"fill_value": 0}),
            attrs.as_object().unwrap(),
            true,
            f4,
        );
        assert!(matches!(nan, Some(AttrValue::F32(v)) if v[0].is_nan()));
        let attrs = json!({"_FillValue": -1});
        assert_eq!(
            fill_value(&json!({}), attrs.as_object().unwrap(), true, DataType::I16),
            Some(AttrValue::I16(vec![-1]))
        );
        // v3 without the attribute: no mask (xarray ignores fill_value there).
        assert_eq!(
            fill_value(&json!({"fill_value": 0}), &Map::new(), true, f4),
            None
        );
        assert_eq!(number(&json!("0x7fc00000")).map(f64::is_nan), Some(true));
    }
}
