//! The Dataset Attribute Structure.

use std::fmt::Write;

use super::schema::{Dap2Array, Dap2Type, Item, Schema, escape_name};
use crate::model::{AttrValue, Attribute, DataType, DatasetMeta};

/// Escapes a DAS string value: `\` and `"` get a backslash. Other characters, control
/// characters and UTF-8 included, pass through raw: netCDF-C's lexer reads a quoted
/// string byte for byte up to the closing quote and drops a backslash before any
/// character, so octal escapes (`\011`) would come back as digits.
pub fn escape_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

/// An attribute name as a DAS word. netCDF-C's DAS lexer (`oc2/daplex.c`) ends a word at
/// any byte outside `[A-Za-z0-9]` and `-+_/%\.*#:!~'"`: a space, and every UTF-8 byte (a
/// negative `char`, read as whitespace, or else skipped as illegal). Its parser
/// (`oc2/dap.y`, rule `name`) takes no quoted names, and it percent-decodes only letters,
/// digits and `_!~*'-"@` (`dapdecode`); pydap decodes nothing. So characters both
/// clients keep are sent raw, giving the original name, and the rest as `%XX` (libdap's
/// and THREDDS's escape), which both clients show as written: `Model scenario` arrives
/// as `Model%20scenario`, and no DAS text can do better (docs/dap2.md). A `%` stays raw
/// unless two hex digits follow, which netCDF-C might decode. Container names must match
/// the DDS, so they keep `escape_name`.
fn attribute_name(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = String::with_capacity(name.len());
    for (i, &b) in bytes.iter().enumerate() {
        let hex_follows = bytes.len() > i + 2
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit();
        let raw =
            b.is_ascii_alphanumeric() || b"_-+.*!~'".contains(&b) || (b == b'%' && !hex_follows);
        if raw {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// DAS numbers: shortest text that reads back to the same value; exponent form for very
/// large or small magnitudes; NaN and infinities by name.
fn float_text(x: f64, single: bool) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Inf".into() } else { "-Inf".into() };
    }
    let a = x.abs();
    let exp = a != 0.0 && !(1e-4..1e16).contains(&a);
    // A Float32 is written as the shortest text of its exact double value, not of the
    // float: pydap parses attributes as doubles, and xarray masks `_FillValue` only if
    // that double equals the float data exactly. netCDF-C rounds it back to the float.
    let _ = single;
    if exp {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// Attributes that must keep their variable's type: netCDF-C refuses a `_FillValue` of
/// another type, and xarray reinterprets these with `_Unsigned`.
const FILL_LIKE: &[&str] = &[
    "_FillValue",
    "missing_value",
    "valid_min",
    "valid_max",
    "valid_range",
];

/// The DAS type and value texts of an attribute. netCDF-C reads DAP2 integers by size
/// and loses their sign, so values are sent in a type that holds them exactly: 8-bit
/// signed as Int16 (DAP2's Byte is unsigned; netCDF-C turns an Int16 `_FillValue` of a
/// Byte variable with `_Unsigned "false"` back into a signed byte), unsigned ones one size
/// up (UInt32 as Float64) unless `keep_unsigned` (fill-like attributes of an unsigned
/// variable, read back through `_Unsigned "true"`). 64-bit integers have no DAP2 type and
/// are sent as String holding their exact decimal text, never wrapped or rounded.
fn attr_texts(v: &AttrValue, keep_unsigned: bool) -> (&'static str, Vec<String>) {
    let ints = |v: Vec<String>| v;
    match v {
        AttrValue::I8(x) => ("Int16", ints(x.iter().map(|v| v.to_string()).collect())),
        AttrValue::U8(x) => (
            if keep_unsigned { "Byte" } else { "Int16" },
            x.iter().map(|v| v.to_string()).collect(),
        ),
        AttrValue::I16(x) => ("Int16", x.iter().map(|v| v.to_string()).collect()),
        AttrValue::U16(x) => (
            if keep_unsigned { "UInt16" } else { "Int32" },
            x.iter().map(|v| v.to_string()).collect(),
        ),
        AttrValue::I32(x) => ("Int32", x.iter().map(|v| v.to_string()).collect()),
        AttrValue::U32(x) => (
            if keep_unsigned { "UInt32" } else { "Float64" },
            x.iter().map(|v| v.to_string()).collect(),
        ),
        AttrValue::I64(x) => ("String", quoted(x.iter().map(|v| v.to_string()))),
        AttrValue::U64(x) => ("String", quoted(x.iter().map(|v| v.to_string()))),
        AttrValue::F32(x) => (
            "Float32",
            x.iter().map(|v| float_text(*v as f64, true)).collect(),
        ),
        AttrValue::F64(x) => ("Float64", x.iter().map(|v| float_text(*v, false)).collect()),
        AttrValue::Text(s) => ("String", quoted(std::iter::once(s.clone()))),
        AttrValue::Strings(x) => ("String", quoted(x.iter().cloned())),
    }
}

fn quoted(values: impl Iterator<Item = String>) -> Vec<String> {
    values
        .map(|s| format!("\"{}\"", escape_string(&s)))
        .collect()
}

pub(super) fn write_attr(out: &mut String, indent: &str, a: &Attribute, of_unsigned_var: bool) {
    let keep = of_unsigned_var && FILL_LIKE.contains(&a.name.as_str());
    let (ty, values) = attr_texts(&a.value, keep);
    if values.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{indent}{ty} {} {};",
        attribute_name(&a.name),
        values.join(", ")
    );
}

fn write_variable(out: &mut String, a: &Dap2Array, string_len: Option<usize>) {
    let _ = writeln!(out, "    {} {{", escape_name(&a.name));
    let unsigned = matches!(a.var.dtype, DataType::U8 | DataType::U16 | DataType::U32);
    for attr in &a.var.attributes {
        write_attr(out, "        ", attr, unsigned);
    }
    let has = |n: &str| a.var.attributes.iter().any(|x| x.name == n);
    // netCDF-C maps DAP2 integers by size and loses their sign; `_Unsigned` tells it
    // (and xarray over pydap) which way to read them.
    if a.dtype != Dap2Type::String && !has("_Unsigned") {
        match a.var.dtype {
            DataType::I8 => out.push_str("        String _Unsigned \"false\";\n"),
            DataType::U8 | DataType::U16 | DataType::U32 => {
                out.push_str("        String _Unsigned \"true\";\n")
            }
            _ => {}
        }
    }
    // Without these netCDF-C gives a String a 64-character dimension and truncates.
    // They must be attributes of the variable's own container, named `DODS.strlen`:
    // netCDF-C moves a nested `DODS { }` container to the global attributes.
    // netCDF-4 strings are UTF-8: netCDF-C hands them over as char arrays, which xarray
    // decodes back to text only with `_Encoding`.
    if a.var.dtype == DataType::String && !has("_Encoding") {
        out.push_str("        String _Encoding \"utf-8\";\n");
    }
    let dims = match (a.char_len, string_len) {
        (Some(n), _) => Some((n, a.char_dim.clone())),
        (None, Some(n)) if a.dtype == Dap2Type::String => Some((n, None)),
        _ => None,
    };
    if let Some((n, dim)) = dims {
        let _ = writeln!(out, "        Int32 DODS.strlen {};", n.max(1));
        if let Some(d) = dim {
            let _ = writeln!(
                out,
                "        String DODS.dimName \"{}\";",
                escape_string(&d)
            );
        }
    }
    out.push_str("    }\n");
}

/// The DAS: each variable's attributes, `NC_GLOBAL`, each group's attributes under its
/// flattened name, and `DODS_EXTRA` (unlimited dimension, variables DAP2 cannot carry).
/// `string_len` gives the longest value (in bytes) of netCDF-4 string variables.
pub fn das(
    meta: &DatasetMeta,
    schema: &Schema,
    string_len: &dyn Fn(&str) -> Option<usize>,
) -> String {
    let mut out = String::from("Attributes {\n");
    for item in &schema.items {
        let a = match item {
            Item::Array(a) => a,
            Item::Grid { array, .. } => array,
        };
        write_variable(&mut out, a, string_len(&a.var.path));
    }
    out.push_str("    NC_GLOBAL {\n");
    for a in meta.attributes() {
        write_attr(&mut out, "        ", a, false);
    }
    out.push_str("    }\n");
    for (name, path) in &schema.groups {
        if let Some(g) = meta.root.group(path) {
            let _ = writeln!(out, "    {} {{", escape_name(name));
            for a in &g.attributes {
                write_attr(&mut out, "        ", a, false);
            }
            out.push_str("    }\n");
        }
    }
    if schema.unlimited.is_some() || !schema.omitted.is_empty() {
        out.push_str("    DODS_EXTRA {\n");
        if let Some(u) = &schema.unlimited {
            let _ = writeln!(
                out,
                "        String Unlimited_Dimension \"{}\";",
                escape_string(u)
            );
        }
        if !schema.omitted.is_empty() {
            let list = quoted(schema.omitted.iter().map(|o| o.reason.clone()));
            let _ = writeln!(out, "        String Not_Served {};", list.join(", "));
        }
        out.push_str("    }\n");
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_escapes() {
        assert_eq!(escape_string("a\"b\\c\td"), "a\\\"b\\\\c\td");
        assert_eq!(float_text(0.5f32 as f64, true), "0.5");
        assert_eq!(float_text(0.01f32 as f64, true), "0.009999999776482582");
        assert_eq!(float_text(1e20f32 as f64, true), "1.0000000200408773e20");
        assert_eq!(float_text(1e300, false), "1e300");
        assert_eq!(float_text(1e-300, false), "1e-300");
        assert_eq!(float_text(f64::NEG_INFINITY, false), "-Inf");
        assert_eq!(float_text(3.25e10, true), "32500000000");
        let (t, v) = attr_texts(&AttrValue::U64(vec![u64::MAX]), false);
        assert_eq!((t, v[0].as_str()), ("String", "\"18446744073709551615\""));
        let (t, v) = attr_texts(&AttrValue::I8(vec![-1, 2]), false);
        assert_eq!((t, v.join(",")), ("Int16", "-1,2".into()));
    }

    #[test]
    fn attribute_names_keep_what_the_lexers_keep() {
        assert_eq!(attribute_name("Model scenario"), "Model%20scenario");
        assert_eq!(attribute_name("a.b+c*d-e_f!~'"), "a.b+c*d-e_f!~'");
        assert_eq!(attribute_name("100%"), "100%");
        assert_eq!(attribute_name("%41"), "%2541");
        assert_eq!(attribute_name("température"), "temp%C3%A9rature");
        assert_eq!(attribute_name("a\"b#c:d"), "a%22b%23c%3Ad");
        let mut out = String::new();
        let attr = Attribute {
            name: "Model scenario".into(),
            value: AttrValue::Text("ssp585".into()),
        };
        write_attr(&mut out, "", &attr, false);
        assert_eq!(out, "String Model%20scenario \"ssp585\";\n");
    }
}
