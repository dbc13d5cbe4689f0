//! cfgrib's names and attributes: a variable's name (`cfVarName`...), its `GRIB_*`
//! attributes (typed as cfgrib reads them) with `long_name`, `units`,
//! `standard_name` and `coordinates`, and the dataset's `GRIB_*` attributes.

use crate::model::{AttrValue, Attribute};

use super::coords::Coord;
use super::index::Field;
use super::keys::KeyValue;

/// The unique keys cfgrib turns into variable attributes, in its order.
pub(crate) const DATA_ATTRIBUTE_KEYS: &[&str] = &[
    "paramId",
    "dataType",
    "numberOfPoints",
    "typeOfLevel",
    "stepUnits",
    "stepType",
    "gridType",
    "uvRelativeToGrid",
];
/// Further `GRIB_*` attributes read from a variable's first message.
const EXTRA_ATTRIBUTE_KEYS: &[&str] = &[
    "shortName",
    "units",
    "name",
    "cfName",
    "cfVarName",
    "missingValue",
    "totalNumber",
    "numberOfDirections",
    "numberOfFrequencies",
    "NV",
    "gridDefinitionDescription",
];
/// Grid keys that become attributes, by grid type (cfgrib's `GRID_TYPE_MAP`, in part).
fn grid_attribute_keys(grid_type: &str) -> &'static [&'static str] {
    match grid_type {
        "regular_ll" => &[
            "Nx",
            "iDirectionIncrementInDegrees",
            "iScansNegatively",
            "longitudeOfFirstGridPointInDegrees",
            "longitudeOfLastGridPointInDegrees",
            "Ny",
            "jDirectionIncrementInDegrees",
            "jPointsAreConsecutive",
            "jScansPositively",
            "latitudeOfFirstGridPointInDegrees",
            "latitudeOfLastGridPointInDegrees",
        ],
        "regular_gg" => &[
            "N",
            "Ni",
            "Nj",
            "iDirectionIncrementInDegrees",
            "iScansNegatively",
            "jScansPositively",
            "jPointsAreConsecutive",
            "longitudeOfFirstGridPointInDegrees",
            "longitudeOfLastGridPointInDegrees",
            "latitudeOfFirstGridPointInDegrees",
            "latitudeOfLastGridPointInDegrees",
        ],
        "lambert" => &[
            "LaDInDegrees",
            "LoVInDegrees",
            "iScansNegatively",
            "jPointsAreConsecutive",
            "jScansPositively",
            "latitudeOfFirstGridPointInDegrees",
            "latitudeOfSouthernPoleInDegrees",
            "longitudeOfFirstGridPointInDegrees",
            "longitudeOfSouthernPoleInDegrees",
            "DyInMetres",
            "DxInMetres",
            "Latin2InDegrees",
            "Latin1InDegrees",
            "Ny",
            "Nx",
        ],
        "reduced_gg" => &["N"],
        _ => &[],
    }
}
/// Keys that become dataset attributes.
pub(crate) const GLOBAL_KEYS: &[&str] = &["edition", "centre", "centreDescription", "subCentre"];

pub(crate) fn attr(key: &str, value: &KeyValue) -> Attribute {
    let value = match value {
        // 32 bits where the value fits: DAP2 has no 64-bit integers.
        KeyValue::Int(i) => match i32::try_from(*i) {
            Ok(i) => AttrValue::I32(vec![i]),
            Err(_) => AttrValue::I64(vec![*i]),
        },
        KeyValue::Float(f) => AttrValue::F64(vec![*f]),
        KeyValue::Text(t) => AttrValue::Text(t.clone()),
    };
    Attribute::new(format!("GRIB_{key}"), value)
}

pub(crate) fn text(name: &str, value: &str) -> Attribute {
    Attribute::new(name, AttrValue::Text(value.to_string()))
}

/// cfgrib's variable name: `cfVarName`, else `shortName`, else `paramId_N`.
pub(crate) fn var_name(f: &Field) -> String {
    f.text("cfVarName")
        .or(f.text("shortName"))
        .map(str::to_string)
        .unwrap_or_else(|| match f.keys.get("paramId") {
            Some(KeyValue::Int(p)) => format!("paramId_{p}"),
            _ => "unknown".into(),
        })
}

pub(crate) fn var_attrs(f: &Field, coords: &[Coord]) -> Vec<Attribute> {
    let mut attrs: Vec<Attribute> = DATA_ATTRIBUTE_KEYS
        .iter()
        .filter_map(|k| f.keys.get(k).map(|v| attr(k, v)))
        .collect();
    let mut extra: Vec<&str> = EXTRA_ATTRIBUTE_KEYS.to_vec();
    extra.extend(grid_attribute_keys(f.text("gridType").unwrap_or("")));
    extra.sort();
    extra.dedup();
    attrs.extend(
        extra
            .iter()
            .filter_map(|k| f.keys.get(k).map(|v| attr(k, v))),
    );
    let long_name =
        f.text("name")
            .map(str::to_string)
            .unwrap_or_else(|| match f.keys.get("paramId") {
                Some(KeyValue::Int(p)) => format!("original GRIB paramId: {p}"),
                _ => "original GRIB paramId: undef".into(),
            });
    attrs.push(text("long_name", &long_name));
    attrs.push(text("units", f.text("units").unwrap_or("1")));
    if let Some(cf) = f.text("cfName") {
        attrs.push(text("standard_name", cf));
    }
    let names: Vec<&str> = coords.iter().map(|c| c.name.as_str()).collect();
    attrs.push(text("coordinates", &names.join(" ")));
    attrs
}
