//! CF packing and missing data: `scale_factor`, `add_offset`, `_FillValue`,
//! `missing_value`, `valid_min/max/range`, `_Unsigned`.

use crate::model::{ArrayValues, DataType, Variable};

/// Attributes that describe how values are packed (stored), not the decoded values:
/// dropped from anything that carries decoded values.
pub const PACKING_ATTRIBUTES: &[&str] = &[
    "scale_factor",
    "add_offset",
    "_FillValue",
    "missing_value",
    "valid_min",
    "valid_max",
    "valid_range",
    "_Unsigned",
];

/// netCDF-C's attributes on how a variable is stored (chunks, filters, byte order).
pub const STORAGE_ATTRIBUTES: &[&str] = &[
    "_ChunkSizes",
    "_Storage",
    "_DeflateLevel",
    "_Shuffle",
    "_Endianness",
];

/// How to turn a variable's stored values into physical values.
#[derive(Debug, Clone, PartialEq)]
pub struct Packing {
    pub scale_factor: f64,
    pub add_offset: f64,
    pub fill_value: Option<f64>,
    pub missing_values: Vec<f64>,
    pub valid_min: Option<f64>,
    pub valid_max: Option<f64>,
    /// `_Unsigned = "true"` on a signed integer type: reinterpret the bits as unsigned.
    pub unsigned: bool,
    pub dtype: DataType,
}

impl Packing {
    pub fn of(var: &Variable) -> Packing {
        let num = |n: &str| var.attr(n).and_then(|a| a.as_f64());
        let unsigned = var
            .attr("_Unsigned")
            .and_then(|a| a.as_text())
            .is_some_and(|t| t.eq_ignore_ascii_case("true"));
        let range = var
            .attr("valid_range")
            .map(|a| a.as_f64s())
            .unwrap_or_default();
        let (mut valid_min, mut valid_max) = (num("valid_min"), num("valid_max"));
        if range.len() == 2 {
            valid_min = Some(range[0]);
            valid_max = Some(range[1]);
        }
        let mut p = Packing {
            scale_factor: num("scale_factor").unwrap_or(1.0),
            add_offset: num("add_offset").unwrap_or(0.0),
            fill_value: num("_FillValue"),
            missing_values: var
                .attr("missing_value")
                .map(|a| a.as_f64s())
                .unwrap_or_default(),
            valid_min,
            valid_max,
            unsigned,
            dtype: var.dtype,
        };
        // Attribute values of an `_Unsigned` variable are stored signed too.
        if unsigned {
            p.fill_value = p.fill_value.map(|v| p.as_unsigned(v));
            p.missing_values = p.missing_values.iter().map(|v| p.as_unsigned(*v)).collect();
            p.valid_min = p.valid_min.map(|v| p.as_unsigned(v));
            p.valid_max = p.valid_max.map(|v| p.as_unsigned(v));
        }
        p
    }

    /// True when decoding changes values (scale/offset present).
    pub fn is_packed(&self) -> bool {
        self.scale_factor != 1.0 || self.add_offset != 0.0
    }

    fn as_unsigned(&self, raw: f64) -> f64 {
        if !self.unsigned || raw >= 0.0 {
            return raw;
        }
        match self.dtype {
            DataType::I8 => raw + 256.0,
            DataType::I16 => raw + 65536.0,
            DataType::I32 => raw + 4294967296.0,
            DataType::I64 => raw + 18446744073709551616.0,
            _ => raw,
        }
    }

    /// The physical value of one stored value; `None` when it is missing data.
    pub fn decode(&self, raw: f64) -> Option<f64> {
        let raw = self.as_unsigned(raw);
        if raw.is_nan() {
            return None;
        }
        if self.fill_value.is_some_and(|f| f == raw) || self.missing_values.contains(&raw) {
            return None;
        }
        if self.valid_min.is_some_and(|m| raw < m) || self.valid_max.is_some_and(|m| raw > m) {
            return None;
        }
        Some(raw * self.scale_factor + self.add_offset)
    }

    /// Physical values of an array; missing data as NaN.
    pub fn decode_values(&self, values: &ArrayValues) -> Vec<f64> {
        (0..values.len())
            .map(|i| self.decode(values.get_f64(i)).unwrap_or(f64::NAN))
            .collect()
    }

    /// The physical valid range, if the attributes give one.
    pub fn valid_range(&self) -> Option<(f64, f64)> {
        let lo = self.valid_min? * self.scale_factor + self.add_offset;
        let hi = self.valid_max? * self.scale_factor + self.add_offset;
        Some((lo.min(hi), lo.max(hi)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AttrValue, Attribute};

    fn var(dtype: DataType, attrs: Vec<Attribute>) -> Variable {
        Variable {
            name: "v".into(),
            path: "/v".into(),
            dims: vec![],
            dtype,
            attributes: attrs,
            chunks: None,
        }
    }

    #[test]
    fn packed_short_with_fill() {
        let v = var(
            DataType::I16,
            vec![
                Attribute::new("scale_factor", AttrValue::F32(vec![0.01])),
                Attribute::new("add_offset", AttrValue::F32(vec![273.15])),
                Attribute::new("_FillValue", AttrValue::I16(vec![-32768])),
            ],
        );
        let p = Packing::of(&v);
        assert!(p.is_packed());
        assert_eq!(p.decode(-32768.0), None);
        let x = p.decode(100.0).unwrap();
        assert!((x - (1.0 + 273.15f32 as f64)).abs() < 1e-4, "{x}");
        let vals = p.decode_values(&ArrayValues::I16(vec![0, -32768]));
        assert!(vals[1].is_nan());
    }

    #[test]
    fn unsigned_and_valid_range() {
        let v = var(
            DataType::I8,
            vec![
                Attribute::new("_Unsigned", AttrValue::Text("true".into())),
                Attribute::new("valid_range", AttrValue::I8(vec![0, -6])), // 0..250
                Attribute::new("missing_value", AttrValue::I8(vec![-1])),  // 255
            ],
        );
        let p = Packing::of(&v);
        assert_eq!(p.decode(-56.0), Some(200.0));
        assert_eq!(p.decode(-1.0), None);
        assert_eq!(p.decode(-3.0), None); // 253 > 250
        assert_eq!(p.valid_range(), Some((0.0, 250.0)));
        assert_eq!(p.decode(f64::NAN), None);
    }
}
