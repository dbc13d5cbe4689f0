//! Zarr v2 and v3 metadata documents of a store layout.

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::model::{AttrValue, Attribute, DataType};

use super::codec::{Fill, float_json};
use super::layout::{ArrayLayout, Codec, DECODED_ZLIB_LEVEL, Encoding, GroupLayout, StoreLayout};

/// An attribute value as JSON: one value as a scalar, several as a list.
pub fn attr_json(v: &AttrValue) -> Value {
    fn one_or_many(mut items: Vec<Value>) -> Value {
        if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Value::Array(items)
        }
    }
    fn nums<T: Copy + Into<Value>>(v: &[T]) -> Value {
        one_or_many(v.iter().map(|x| (*x).into()).collect())
    }
    match v {
        AttrValue::I8(x) => nums(x),
        AttrValue::U8(x) => nums(x),
        AttrValue::I16(x) => nums(x),
        AttrValue::U16(x) => nums(x),
        AttrValue::I32(x) => nums(x),
        AttrValue::U32(x) => nums(x),
        AttrValue::I64(x) => nums(x),
        AttrValue::U64(x) => nums(x),
        AttrValue::F32(x) => {
            one_or_many(x.iter().map(|f| float_json(f64::from(*f), true)).collect())
        }
        AttrValue::F64(x) => one_or_many(x.iter().map(|f| float_json(*f, false)).collect()),
        AttrValue::Text(s) => Value::String(s.clone()),
        AttrValue::Strings(s) => one_or_many(s.iter().cloned().map(Value::String).collect()),
    }
}

fn attrs_json(attrs: &[Attribute]) -> Map<String, Value> {
    attrs
        .iter()
        .map(|a| (a.name.clone(), attr_json(&a.value)))
        .collect()
}

fn little_endian(a: &ArrayLayout) -> bool {
    match &a.encoding {
        Encoding::Native { little_endian, .. } => *little_endian,
        Encoding::Decoded => true,
    }
}

/// numpy type string of v2 (`<f4`, `|i1`, `|S1`, `|O`).
pub fn dtype_v2(dtype: DataType, little: bool) -> String {
    let order = if little { '<' } else { '>' };
    match dtype {
        DataType::I8 => "|i1".into(),
        DataType::U8 => "|u1".into(),
        DataType::Char => "|S1".into(),
        DataType::String => "|O".into(),
        DataType::I16 => format!("{order}i2"),
        DataType::U16 => format!("{order}u2"),
        DataType::I32 => format!("{order}i4"),
        DataType::U32 => format!("{order}u4"),
        DataType::I64 => format!("{order}i8"),
        DataType::U64 => format!("{order}u8"),
        DataType::F32 => format!("{order}f4"),
        DataType::F64 => format!("{order}f8"),
    }
}

fn dtype_v3(dtype: DataType) -> Value {
    match dtype {
        DataType::I8 => "int8".into(),
        DataType::U8 => "uint8".into(),
        DataType::I16 => "int16".into(),
        DataType::U16 => "uint16".into(),
        DataType::I32 => "int32".into(),
        DataType::U32 => "uint32".into(),
        DataType::I64 => "int64".into(),
        DataType::U64 => "uint64".into(),
        DataType::F32 => "float32".into(),
        DataType::F64 => "float64".into(),
        // netCDF char: one byte, which numpy reads as `S1` (xarray joins the last
        // dimension into strings, as it does for netCDF files).
        DataType::Char => {
            json!({"name": "null_terminated_bytes", "configuration": {"length_bytes": 1}})
        }
        DataType::String => "string".into(),
    }
}

/// A codec in v2 (numcodecs) form.
fn codec_v2(c: Codec) -> Value {
    match c {
        Codec::Fletcher32 => json!({"id": "fletcher32"}),
        Codec::Shuffle(e) => json!({"id": "shuffle", "elementsize": e}),
        Codec::Zlib(l) => json!({"id": "zlib", "level": l}),
    }
}

/// A codec in v3 form: numcodecs' codecs under their `numcodecs.` names.
fn codec_v3(c: Codec) -> Value {
    let Value::Object(mut v2) = codec_v2(c) else {
        unreachable!("codec_v2 writes objects")
    };
    let id = v2
        .remove("id")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    json!({"name": format!("numcodecs.{id}"), "configuration": v2})
}

/// `.zarray` (v2).
pub fn zarray(a: &ArrayLayout) -> Value {
    let (filters, compressor) = match &a.encoding {
        Encoding::Native { codecs, .. } => {
            // The last zlib is the compressor; everything before it, in write order, are
            // filters (null, never [], when none).
            let mut chain: Vec<Value> = codecs.chain.iter().map(|c| codec_v2(*c)).collect();
            let compressor = match codecs.chain.last() {
                Some(Codec::Zlib(_)) => chain.pop(),
                _ => None,
            };
            (
                (!chain.is_empty()).then_some(Value::Array(chain)),
                compressor,
            )
        }
        Encoding::Decoded => (
            (a.dtype == DataType::String).then(|| json!([{"id": "vlen-utf8"}])),
            Some(json!({"id": "zlib", "level": DECODED_ZLIB_LEVEL})),
        ),
    };
    let fill = match a.dtype {
        DataType::Char | DataType::String => Value::Null,
        t => a.fill.map_or(Value::Null, |f| f.to_json(t)),
    };
    json!({
        "zarr_format": 2,
        "shape": a.shape,
        "chunks": a.chunk_shape,
        "dtype": dtype_v2(a.dtype, little_endian(a)),
        "compressor": compressor,
        "filters": filters,
        "fill_value": fill,
        "order": "C",
        "dimension_separator": ".",
    })
}

/// `.zattrs` of an array (v2): its attributes and `_ARRAY_DIMENSIONS`. `_FillValue` is
/// not repeated: v2 clients take the mask from `fill_value`.
pub fn zattrs_array(a: &ArrayLayout) -> Value {
    let mut m = attrs_json(&a.attributes);
    m.insert("_ARRAY_DIMENSIONS".into(), json!(a.dims));
    Value::Object(m)
}

pub fn zattrs_group(g: &GroupLayout) -> Value {
    Value::Object(attrs_json(&g.attributes))
}

pub fn zgroup() -> Value {
    json!({"zarr_format": 2})
}

/// Keys below `group` (`` for the root): `temp` under the root, `deep/x` under `forecast`.
fn relative<'k>(group: &str, key: &'k str) -> Option<&'k str> {
    if group.is_empty() {
        return (!key.is_empty()).then_some(key);
    }
    key.strip_prefix(group)?
        .strip_prefix('/')
        .filter(|r| !r.is_empty())
}

/// `.zmetadata` (v2 consolidated metadata) of the group `group` and everything below it.
pub fn zmetadata(layout: &StoreLayout, group: &GroupLayout) -> Value {
    let mut m = Map::new();
    m.insert(".zgroup".into(), zgroup());
    m.insert(".zattrs".into(), zattrs_group(group));
    for g in &layout.groups {
        if let Some(rel) = relative(&group.key, &g.key) {
            m.insert(format!("{rel}/.zgroup"), zgroup());
            m.insert(format!("{rel}/.zattrs"), zattrs_group(g));
        }
    }
    for a in &layout.arrays {
        if let Some(rel) = relative(&group.key, &a.key) {
            m.insert(format!("{rel}/.zarray"), zarray(a));
            m.insert(format!("{rel}/.zattrs"), zattrs_array(a));
        }
    }
    json!({"zarr_consolidated_format": 1, "metadata": m})
}

/// `zarr.json` of an array (v3).
pub fn array_v3(a: &ArrayLayout) -> Value {
    let zlib = |level: u32| codec_v3(Codec::Zlib(level));
    let bytes = || {
        if a.dtype.size().unwrap_or(1) > 1 {
            let endian = if little_endian(a) { "little" } else { "big" };
            json!({"name": "bytes", "configuration": {"endian": endian}})
        } else {
            json!({"name": "bytes"})
        }
    };
    let codecs: Vec<Value> = match (&a.encoding, a.dtype) {
        (Encoding::Native { codecs, .. }, _) => {
            let mut c = vec![bytes()];
            c.extend(codecs.chain.iter().map(|c| codec_v3(*c)));
            c
        }
        (Encoding::Decoded, DataType::String) => {
            vec![json!({"name": "vlen-utf8"}), zlib(DECODED_ZLIB_LEVEL)]
        }
        (Encoding::Decoded, _) => vec![bytes(), zlib(DECODED_ZLIB_LEVEL)],
    };
    let fill = match a.dtype {
        DataType::String => json!(""),
        DataType::Char => json!("AA=="),
        t => a.effective_fill().to_json(t),
    };
    let mut attrs = attrs_json(&a.attributes);
    if let Some(f) = a.fill.filter(|_| a.dtype.is_numeric()) {
        attrs.insert("_FillValue".into(), fill_attr_v3(f));
    }
    json!({
        "zarr_format": 3,
        "node_type": "array",
        "shape": a.shape,
        "data_type": dtype_v3(a.dtype),
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": a.chunk_shape}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill,
        "codecs": codecs,
        "attributes": attrs,
        "dimension_names": a.dims,
    })
}

/// xarray reads the v3 `_FillValue` attribute as the CF mask: floats as base64 of the
/// little-endian float64, integers as numbers.
fn fill_attr_v3(f: Fill) -> Value {
    match f {
        Fill::Float(x) => base64::engine::general_purpose::STANDARD
            .encode(x.to_le_bytes())
            .into(),
        Fill::Int(i) if i < 0 => json!(i as i64),
        Fill::Int(i) => json!(i as u64),
    }
}

/// `zarr.json` of a group (v3), with inline consolidated metadata of everything below.
pub fn group_v3(layout: &StoreLayout, group: &GroupLayout) -> Value {
    let mut m = Map::new();
    for g in &layout.groups {
        if let Some(rel) = relative(&group.key, &g.key) {
            m.insert(
                rel.to_string(),
                json!({"zarr_format": 3, "node_type": "group", "attributes": attrs_json(&g.attributes)}),
            );
        }
    }
    for a in &layout.arrays {
        if let Some(rel) = relative(&group.key, &a.key) {
            m.insert(rel.to_string(), array_v3(a));
        }
    }
    json!({
        "zarr_format": 3,
        "node_type": "group",
        "attributes": attrs_json(&group.attributes),
        "consolidated_metadata": {"kind": "inline", "must_understand": false, "metadata": m},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_and_relative_keys() {
        assert_eq!(attr_json(&AttrValue::F32(vec![0.01])), json!(0.01));
        assert_eq!(
            attr_json(&AttrValue::F32(vec![1.5, f32::NAN])),
            json!([1.5, "NaN"])
        );
        assert_eq!(attr_json(&AttrValue::U64(vec![u64::MAX])), json!(u64::MAX));
        assert_eq!(attr_json(&AttrValue::Strings(vec!["a".into()])), json!("a"));
        assert_eq!(relative("", "temp"), Some("temp"));
        assert_eq!(relative("", ""), None);
        assert_eq!(relative("forecast", "forecast/deep/s"), Some("deep/s"));
        assert_eq!(relative("forecast", "forecastx/s"), None);
        assert_eq!(relative("forecast", "forecast"), None);
        assert_eq!(fill_attr_v3(Fill::Float(f64::NAN)), json!("AAAAAAAA+H8="));
        assert_eq!(dtype_v2(DataType::I16, false), ">i2");
    }

    fn native_temp() -> ArrayLayout {
        use super::super::layout::NativeCodecs;
        ArrayLayout {
            key: "temp".into(),
            var_path: "/temp".into(),
            dims: vec!["time".into(), "lat".into()],
            shape: vec![4, 20],
            dtype: DataType::F32,
            chunk_shape: vec![1, 10],
            encoding: Encoding::Native {
                codecs: NativeCodecs {
                    chain: vec![Codec::Shuffle(4), Codec::Zlib(4)],
                },
                little_endian: true,
                trailer: 0,
                chunks: Default::default(),
            },
            fill: Some(Fill::Float(f64::NAN)),
            attributes: vec![Attribute::new("units", AttrValue::Text("K".into()))],
        }
    }

    #[test]
    fn array_documents() {
        let a = native_temp();
        assert_eq!(
            zarray(&a),
            json!({
                "zarr_format": 2, "shape": [4, 20], "chunks": [1, 10], "dtype": "<f4",
                "compressor": {"id": "zlib", "level": 4},
                "filters": [{"id": "shuffle", "elementsize": 4}],
                "fill_value": "NaN", "order": "C", "dimension_separator": "."
            })
        );
        assert_eq!(
            zattrs_array(&a),
            json!({"units": "K", "_ARRAY_DIMENSIONS": ["time", "lat"]})
        );
        assert_eq!(
            array_v3(&a),
            json!({
                "zarr_format": 3, "node_type": "array", "shape": [4, 20],
                "data_type": "float32",
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1, 10]}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": "NaN",
                "codecs": [
                    {"name": "bytes", "configuration": {"endian": "little"}},
                    {"name": "numcodecs.shuffle", "configuration": {"elementsize": 4}},
                    {"name": "numcodecs.zlib", "configuration": {"level": 4}}
                ],
                "attributes": {"units": "K", "_FillValue": "AAAAAAAA+H8="},
                "dimension_names": ["time", "lat"]
            })
        );
        let mut s = native_temp();
        s.dtype = DataType::String;
        s.encoding = Encoding::Decoded;
        s.fill = None;
        let v2 = zarray(&s);
        assert_eq!(v2["dtype"], "|O");
        assert_eq!(v2["filters"], json!([{"id": "vlen-utf8"}]));
        assert_eq!(v2["fill_value"], Value::Null);
        assert_eq!(array_v3(&s)["codecs"][0], json!({"name": "vlen-utf8"}));
        let layout = StoreLayout {
            arrays: vec![native_temp()],
            groups: vec![GroupLayout {
                key: String::new(),
                attributes: vec![],
            }],
        };
        let z = zmetadata(&layout, &layout.groups[0]);
        assert_eq!(z["zarr_consolidated_format"], 1);
        assert_eq!(z["metadata"][".zgroup"], json!({"zarr_format": 2}));
        assert_eq!(z["metadata"]["temp/.zarray"], zarray(&native_temp()));
        let g = group_v3(&layout, &layout.groups[0]);
        assert_eq!(g["consolidated_metadata"]["kind"], "inline");
        assert_eq!(
            g["consolidated_metadata"]["metadata"]["temp"],
            array_v3(&native_temp())
        );
    }
}
