//! The XML pieces every DAP4 document is made of: DAP4 type names, fully qualified
//! names, escaping, element starts.

use quick_xml::events::BytesStart;

use crate::model::DataType;

/// The DAP4 name of an atomic type.
pub fn type_name(t: DataType) -> &'static str {
    match t {
        DataType::I8 => "Int8",
        DataType::U8 => "UInt8",
        DataType::I16 => "Int16",
        DataType::U16 => "UInt16",
        DataType::I32 => "Int32",
        DataType::U32 => "UInt32",
        DataType::I64 => "Int64",
        DataType::U64 => "UInt64",
        DataType::F32 => "Float32",
        DataType::F64 => "Float64",
        DataType::Char => "Char",
        DataType::String => "String",
    }
}

/// Escapes text for an XML attribute value. Tabs and line ends become character
/// references, which attribute-value normalisation would otherwise turn into spaces;
/// control characters XML 1.0 cannot carry become U+FFFD.
pub fn escape_attr(s: &str) -> String {
    escape(s, true)
}

pub(super) fn escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\t' if attr => out.push_str("&#9;"),
            '\n' if attr => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A name inside a fully qualified name: `/`, `.` and `\` are backslash-escaped.
fn fqn_part(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '/' | '.' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The DAP4 fully qualified name of a model path (`/g/v`).
pub fn fqn(path: &str) -> String {
    path.split('/')
        .filter(|p| !p.is_empty())
        .map(|p| format!("/{}", fqn_part(p)))
        .collect()
}

pub fn start(name: &str, attrs: &[(&str, &str)]) -> BytesStart<'static> {
    let mut e = BytesStart::new(name.to_string());
    for (k, v) in attrs {
        // Values are escaped by `escape_attr` (quick-xml would keep line ends raw).
        e.push_attribute((k.as_bytes(), escape_attr(v).as_bytes()));
    }
    e
}
