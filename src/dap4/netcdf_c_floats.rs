//! Masking attributes of Float32 variables in forms netCDF-C reads exactly.
//!
//! netCDF-C (4.9, 4.10; `libdap4/d4meta.c`) converts a DAP4 Float32 attribute value
//! twice through a union: the second conversion reads a double whose low 32 bits were
//! overwritten by the float's bits, so the value arrives a few ulp off, whatever text
//! the server sends (the result's last three mantissa bits are fixed by the value's
//! sign and exponent: only one float in eight survives; docs/dap4.md has the
//! derivation). A Float32 `_FillValue` keeps its type (netCDF-C forces it to the
//! variable's), so it cannot be fixed; Float64 attribute values survive exactly.
//! Hence, for Float32 variables only:
//! - `missing_value`, `valid_min`, `valid_max`, `valid_range` are sent as Float64,
//!   the exact doubles the floats widen to (clients compare them with the float data
//!   after widening or narrowing, both exact);
//! - a `_FillValue` without a `missing_value` is repeated as a Float64
//!   `missing_value`, so xarray and netCDF4-python mask fill values as they do
//!   locally (both mask on either attribute).

use std::borrow::Cow;

use crate::model::{AttrValue, Attribute, DataType, Variable};

const WIDENED: [&str; 4] = ["missing_value", "valid_min", "valid_max", "valid_range"];

/// `v`'s attributes as the DMR states them.
pub(super) fn wire_attributes(v: &Variable) -> Cow<'_, [Attribute]> {
    if v.dtype != DataType::F32 {
        return Cow::Borrowed(&v.attributes);
    }
    let widen = |a: &Attribute| match &a.value {
        AttrValue::F32(x) if WIDENED.contains(&a.name.as_str()) => Some(Attribute::new(
            a.name.clone(),
            AttrValue::F64(x.iter().map(|f| f64::from(*f)).collect()),
        )),
        _ => None,
    };
    let fill = v
        .attributes
        .iter()
        .find(|a| a.name == "_FillValue")
        .and_then(|a| match &a.value {
            AttrValue::F32(x) => Some(x.clone()),
            _ => None,
        });
    let has_missing = v.attributes.iter().any(|a| a.name == "missing_value");
    if !v.attributes.iter().any(|a| widen(a).is_some()) && (fill.is_none() || has_missing) {
        return Cow::Borrowed(&v.attributes);
    }
    let mut out: Vec<Attribute> = v
        .attributes
        .iter()
        .map(|a| widen(a).unwrap_or_else(|| a.clone()))
        .collect();
    if let (Some(fill), false) = (fill, has_missing) {
        out.push(Attribute::new(
            "missing_value",
            AttrValue::F64(fill.iter().map(|f| f64::from(*f)).collect()),
        ));
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(dtype: DataType, attributes: Vec<Attribute>) -> Variable {
        Variable {
            name: "v".into(),
            path: "/v".into(),
            dims: Vec::new(),
            dtype,
            attributes,
            chunks: None,
        }
    }

    #[test]
    fn float32_masks_travel_as_exact_doubles() {
        let v = var(
            DataType::F32,
            vec![
                Attribute::new("_FillValue", AttrValue::F32(vec![1e20])),
                Attribute::new("valid_max", AttrValue::F32(vec![-99.9])),
                Attribute::new("units", AttrValue::Text("K".into())),
            ],
        );
        let out = wire_attributes(&v);
        assert_eq!(
            out[0].value,
            AttrValue::F32(vec![1e20]),
            "the type rule holds"
        );
        assert_eq!(out[1].value, AttrValue::F64(vec![f64::from(-99.9f32)]));
        assert_eq!(out[3].name, "missing_value");
        assert_eq!(out[3].value, AttrValue::F64(vec![f64::from(1e20f32)]));
    }

    #[test]
    fn others_are_untouched() {
        let fill = Attribute::new("_FillValue", AttrValue::F64(vec![1e20]));
        let v = var(DataType::F64, vec![fill.clone()]);
        assert!(matches!(wire_attributes(&v), Cow::Borrowed(_)));
        let missing = Attribute::new("missing_value", AttrValue::F64(vec![-1.0]));
        let f32_fill = Attribute::new("_FillValue", AttrValue::F32(vec![-1.0]));
        let v = var(DataType::F32, vec![f32_fill, missing]);
        assert!(matches!(wire_attributes(&v), Cow::Borrowed(_)));
    }
}
