//! Typed attributes.

use serde::Serialize;

use super::DataType;

/// An attribute value: typed scalars/arrays, netCDF `char` text, or netCDF-4 strings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AttrValue {
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
    /// A `char` attribute: one string of text.
    Text(String),
    /// A netCDF-4 `string` attribute: one or more strings.
    Strings(Vec<String>),
}

impl AttrValue {
    pub fn dtype(&self) -> DataType {
        match self {
            AttrValue::I8(_) => DataType::I8,
            AttrValue::U8(_) => DataType::U8,
            AttrValue::I16(_) => DataType::I16,
            AttrValue::U16(_) => DataType::U16,
            AttrValue::I32(_) => DataType::I32,
            AttrValue::U32(_) => DataType::U32,
            AttrValue::I64(_) => DataType::I64,
            AttrValue::U64(_) => DataType::U64,
            AttrValue::F32(_) => DataType::F32,
            AttrValue::F64(_) => DataType::F64,
            AttrValue::Text(_) => DataType::Char,
            AttrValue::Strings(_) => DataType::String,
        }
    }

    /// Number of values (a text attribute counts as one).
    pub fn len(&self) -> usize {
        match self {
            AttrValue::I8(v) => v.len(),
            AttrValue::U8(v) => v.len(),
            AttrValue::I16(v) => v.len(),
            AttrValue::U16(v) => v.len(),
            AttrValue::I32(v) => v.len(),
            AttrValue::U32(v) => v.len(),
            AttrValue::I64(v) => v.len(),
            AttrValue::U64(v) => v.len(),
            AttrValue::F32(v) => v.len(),
            AttrValue::F64(v) => v.len(),
            AttrValue::Text(_) => 1,
            AttrValue::Strings(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Numeric values as f64 (empty for text).
    pub fn as_f64s(&self) -> Vec<f64> {
        match self {
            AttrValue::I8(v) => v.iter().map(|x| *x as f64).collect(),
            AttrValue::U8(v) => v.iter().map(|x| *x as f64).collect(),
            AttrValue::I16(v) => v.iter().map(|x| *x as f64).collect(),
            AttrValue::U16(v) => v.iter().map(|x| *x as f64).collect(),
            AttrValue::I32(v) => v.iter().map(|x| *x as f64).collect(),
            AttrValue::U32(v) => v.iter().map(|x| *x as f64).collect(),
            AttrValue::I64(v) => v.iter().map(|x| *x as f64).collect(),
            AttrValue::U64(v) => v.iter().map(|x| *x as f64).collect(),
            AttrValue::F32(v) => v.iter().map(|x| *x as f64).collect(),
            AttrValue::F64(v) => v.clone(),
            AttrValue::Text(_) | AttrValue::Strings(_) => Vec::new(),
        }
    }

    /// First numeric value as f64.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_f64s().first().copied()
    }

    /// Text content (a `char` attribute, or the strings joined by newlines).
    pub fn as_text(&self) -> Option<String> {
        match self {
            AttrValue::Text(s) => Some(s.clone()),
            AttrValue::Strings(v) => Some(v.join("\n")),
            _ => None,
        }
    }

    /// Values rendered as strings, one per element (text: the whole text).
    pub fn to_strings(&self) -> Vec<String> {
        match self {
            AttrValue::Text(s) => vec![s.clone()],
            AttrValue::Strings(v) => v.clone(),
            AttrValue::F32(v) => v.iter().map(|x| format_float(*x as f64, true)).collect(),
            AttrValue::F64(v) => v.iter().map(|x| format_float(*x, false)).collect(),
            other => other
                .as_f64s()
                .iter()
                .zip(0..)
                .map(|(_, i)| other.int_string(i))
                .collect(),
        }
    }

    fn int_string(&self, i: usize) -> String {
        match self {
            AttrValue::I8(v) => v[i].to_string(),
            AttrValue::U8(v) => v[i].to_string(),
            AttrValue::I16(v) => v[i].to_string(),
            AttrValue::U16(v) => v[i].to_string(),
            AttrValue::I32(v) => v[i].to_string(),
            AttrValue::U32(v) => v[i].to_string(),
            AttrValue::I64(v) => v[i].to_string(),
            AttrValue::U64(v) => v[i].to_string(),
            _ => String::new(),
        }
    }
}

/// Formats a float so that it reads back to the same value; NaN and infinities by name.
pub fn format_float(x: f64, single: bool) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Inf".into() } else { "-Inf".into() }
    } else if single {
        format!("{}", x as f32)
    } else {
        format!("{x}")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribute {
    pub name: String,
    pub value: AttrValue,
}

impl Attribute {
    pub fn new(name: impl Into<String>, value: AttrValue) -> Self {
        Attribute {
            name: name.into(),
            value,
        }
    }
}

/// Lookup helpers over a list of attributes.
pub trait AttributeList {
    fn attr(&self, name: &str) -> Option<&AttrValue>;
    fn attr_f64(&self, name: &str) -> Option<f64> {
        self.attr(name).and_then(AttrValue::as_f64)
    }
    fn attr_text(&self, name: &str) -> Option<String> {
        self.attr(name).and_then(AttrValue::as_text)
    }
}

impl AttributeList for [Attribute] {
    fn attr(&self, name: &str) -> Option<&AttrValue> {
        self.iter().find(|a| a.name == name).map(|a| &a.value)
    }
}

impl AttributeList for Vec<Attribute> {
    fn attr(&self, name: &str) -> Option<&AttrValue> {
        self.as_slice().attr(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_of_values() {
        assert_eq!(AttrValue::I16(vec![-1, 2]).to_strings(), vec!["-1", "2"]);
        assert_eq!(AttrValue::F32(vec![0.1]).to_strings(), vec!["0.1"]);
        assert_eq!(AttrValue::F64(vec![f64::NAN]).to_strings(), vec!["NaN"]);
        assert_eq!(
            AttrValue::U64(vec![u64::MAX]).to_strings(),
            vec![u64::MAX.to_string()]
        );
    }

    #[test]
    fn lookup() {
        let attrs = vec![Attribute::new("units", AttrValue::Text("K".into()))];
        assert_eq!(attrs.attr_text("units").as_deref(), Some("K"));
        assert!(attrs.attr("missing").is_none());
    }
}
