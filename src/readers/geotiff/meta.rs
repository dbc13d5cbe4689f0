//! The data model of a GeoTIFF, laid out as `rioxarray.open_rasterio` shows it: a
//! `band_data` variable over (`band`, `y`, `x`), coordinate variables at pixel centres,
//! the CRS as a CF grid mapping `spatial_ref`, nodata as `_FillValue`, GDAL scale and
//! offset as CF packing; plus 2-D `lon`/`lat` for projected rasters and a scalar `time`
//! from TIFFTAG_DATETIME, so that WMS, EDR and STAC can place the data.

use super::gdal_metadata::Item;
use super::georef::Georef;
use super::image::Image;
use crate::model::{
    AttrValue, Attribute, DataType, DatasetMeta, DimRef, Dimension, Group, Variable,
};

pub(super) const DATA: &str = "band_data";

fn text(name: &str, value: impl Into<String>) -> Attribute {
    Attribute::new(name, AttrValue::Text(value.into()))
}

fn dim(name: &str, len: usize) -> DimRef {
    DimRef {
        name: name.into(),
        path: format!("/{name}"),
        len,
    }
}

fn var(name: &str, dims: Vec<DimRef>, dtype: DataType, attributes: Vec<Attribute>) -> Variable {
    Variable {
        name: name.into(),
        path: format!("/{name}"),
        dims,
        dtype,
        attributes,
        chunks: None,
    }
}

/// Whether the raster gets 2-D longitudes and latitudes: projected with a known CRS.
pub(super) fn has_lonlat(georef: &Georef) -> bool {
    georef
        .crs
        .as_ref()
        .is_some_and(|c| !c.geographic && c.to_lonlat.is_some())
}

/// The nodata value as the data type's attribute; `None` if it does not fit the type.
fn fill_value(nodata: &str, dtype: DataType) -> Option<AttrValue> {
    let v: f64 = nodata.trim().parse().ok()?;
    let int = |lo: f64, hi: f64| (v.fract() == 0.0 && v >= lo && v <= hi).then_some(v);
    Some(match dtype {
        DataType::F32 => AttrValue::F32(vec![v as f32]),
        DataType::F64 => AttrValue::F64(vec![v]),
        DataType::U8 => AttrValue::U8(vec![int(0.0, 255.0)? as u8]),
        DataType::I8 => AttrValue::I8(vec![int(-128.0, 127.0)? as i8]),
        DataType::U16 => AttrValue::U16(vec![int(0.0, 65535.0)? as u16]),
        DataType::I16 => AttrValue::I16(vec![int(-32768.0, 32767.0)? as i16]),
        DataType::U32 => AttrValue::U32(vec![int(0.0, u32::MAX as f64)? as u32]),
        DataType::I32 => AttrValue::I32(vec![int(i32::MIN as f64, i32::MAX as f64)? as i32]),
        DataType::U64 => AttrValue::U64(vec![int(0.0, u64::MAX as f64)? as u64]),
        DataType::I64 => AttrValue::I64(vec![int(i64::MIN as f64, i64::MAX as f64)? as i64]),
        DataType::Char | DataType::String => return None,
    })
}

/// The native bytes of one sample of the fill value (0 without nodata, as GDAL fills).
pub(super) fn fill_bytes(image: &Image) -> Vec<u8> {
    let size = image.dtype.size().unwrap_or(1);
    let fill = image
        .geo
        .nodata
        .as_deref()
        .and_then(|n| fill_value(n, image.dtype));
    let bytes = match fill {
        Some(AttrValue::F32(v)) => v[0].to_ne_bytes().to_vec(),
        Some(AttrValue::F64(v)) => v[0].to_ne_bytes().to_vec(),
        Some(AttrValue::U8(v)) => v,
        Some(AttrValue::I8(v)) => vec![v[0] as u8],
        Some(AttrValue::U16(v)) => v[0].to_ne_bytes().to_vec(),
        Some(AttrValue::I16(v)) => v[0].to_ne_bytes().to_vec(),
        Some(AttrValue::U32(v)) => v[0].to_ne_bytes().to_vec(),
        Some(AttrValue::I32(v)) => v[0].to_ne_bytes().to_vec(),
        Some(AttrValue::U64(v)) => v[0].to_ne_bytes().to_vec(),
        Some(AttrValue::I64(v)) => v[0].to_ne_bytes().to_vec(),
        _ => Vec::new(),
    };
    if bytes.len() == size {
        bytes
    } else {
        vec![0; size]
    }
}

/// One value shared by every band for a band-level GDAL item of `role`, if they agree.
fn per_band(items: &[Item], role: &str, bands: usize) -> Option<String> {
    let values: Vec<&str> = (0..bands)
        .map(|b| {
            items
                .iter()
                .find(|i| i.sample == Some(b) && i.role.as_deref() == Some(role))
                .map(|i| i.value.as_str())
        })
        .collect::<Option<_>>()?;
    let first = *values.first()?;
    values
        .iter()
        .all(|v| *v == first)
        .then(|| first.to_string())
}

/// One number shared by every band for a band-level GDAL item of `role` (`default`
/// for a band without it), if they agree.
fn per_band_number(items: &[Item], role: &str, bands: usize, default: f64) -> Option<f64> {
    let values: Vec<f64> = (0..bands)
        .map(|b| {
            items
                .iter()
                .find(|i| i.sample == Some(b) && i.role.as_deref() == Some(role))
                .and_then(|i| i.value.trim().parse::<f64>().ok())
                .unwrap_or(default)
        })
        .collect();
    let first = *values.first()?;
    (first.is_finite() && values.iter().all(|v| *v == first)).then_some(first)
}

/// The attributes of `band_data`.
fn data_attributes(image: &Image, georef: &Georef, items: &[Item], time: bool) -> Vec<Attribute> {
    let mut attrs = Vec::new();
    if let Some(fill) = image
        .geo
        .nodata
        .as_deref()
        .and_then(|n| fill_value(n, image.dtype))
    {
        attrs.push(Attribute::new("_FillValue", fill));
    }
    // Like rioxarray, always (1 and 0 where GDAL has none), when every band agrees.
    if let Some(scale) = per_band_number(items, "scale", image.samples, 1.0) {
        attrs.push(Attribute::new("scale_factor", AttrValue::F64(vec![scale])));
    }
    if let Some(offset) = per_band_number(items, "offset", image.samples, 0.0) {
        attrs.push(Attribute::new("add_offset", AttrValue::F64(vec![offset])));
    }
    if let Some(units) = per_band(items, "unittype", image.samples).filter(|u| !u.is_empty()) {
        attrs.push(text("units", units));
    }
    if let Some(d) = per_band(items, "description", image.samples).filter(|d| !d.is_empty()) {
        attrs.push(text("long_name", d));
    }
    attrs.push(text(
        "AREA_OR_POINT",
        if georef.pixel_is_point {
            "Point"
        } else {
            "Area"
        },
    ));
    for i in items
        .iter()
        .filter(|i| i.sample.is_none() && i.role.is_none())
    {
        if i.name != "AREA_OR_POINT" && !i.name.is_empty() {
            attrs.push(text(&i.name, i.value.clone()));
        }
    }
    if let Some(dt) = &image.geo.datetime {
        attrs.push(text("TIFFTAG_DATETIME", dt.clone()));
    }
    if georef.crs.is_some() {
        attrs.push(text("grid_mapping", "spatial_ref"));
    }
    let mut coords = Vec::new();
    if has_lonlat(georef) {
        coords.extend(["lon", "lat"]);
    }
    if time {
        coords.push("time");
    }
    if !coords.is_empty() {
        attrs.push(text("coordinates", coords.join(" ")));
    }
    attrs
}

/// Attributes of `x` and `y`: longitude/latitude for geographic rasters, projection
/// coordinates for projected ones, and bare pixel coordinates otherwise (which nothing
/// takes for a place on the earth).
fn axis_attributes(georef: &Georef, axis: char) -> Vec<Attribute> {
    let (x, geo_name, geo_units) = match axis {
        'x' => (true, "longitude", "degrees_east"),
        _ => (false, "latitude", "degrees_north"),
    };
    let axis_name = if x { "X" } else { "Y" };
    match &georef.crs {
        Some(c) if c.geographic => vec![
            text("standard_name", geo_name),
            text("long_name", geo_name),
            text("units", geo_units),
            text("axis", axis_name),
        ],
        Some(_) if has_lonlat(georef) => vec![
            text(
                "standard_name",
                if x {
                    "projection_x_coordinate"
                } else {
                    "projection_y_coordinate"
                },
            ),
            text("long_name", format!("{axis} coordinate of projection")),
            text("units", "metre"),
            text("axis", axis_name),
        ],
        _ => vec![text(
            "long_name",
            format!("{axis} coordinate of projection"),
        )],
    }
}

/// The whole dataset's metadata.
pub(super) fn build(image: &Image, georef: &Georef, items: &[Item], time: bool) -> DatasetMeta {
    let (band, y, x) = (
        dim("band", image.samples),
        dim("y", image.height),
        dim("x", image.width),
    );
    let mut data = var(
        DATA,
        vec![band.clone(), y.clone(), x.clone()],
        image.dtype,
        data_attributes(image, georef, items, time),
    );
    data.chunks = Some(vec![
        1,
        image.block_height.min(image.height),
        image.block_width.min(image.width),
    ]);
    let mut variables = vec![
        data,
        var("band", vec![band.clone()], DataType::I32, vec![]),
        var(
            "x",
            vec![x.clone()],
            DataType::F64,
            axis_attributes(georef, 'x'),
        ),
        var(
            "y",
            vec![y.clone()],
            DataType::F64,
            axis_attributes(georef, 'y'),
        ),
    ];
    if let Some(crs) = &georef.crs {
        let attrs = super::grid_mapping::attributes(crs, georef);
        variables.push(var("spatial_ref", vec![], DataType::I32, attrs));
    }
    if has_lonlat(georef) {
        for (name, units) in [("lon", "degrees_east"), ("lat", "degrees_north")] {
            let standard = if name == "lon" {
                "longitude"
            } else {
                "latitude"
            };
            variables.push(var(
                name,
                vec![y.clone(), x.clone()],
                DataType::F64,
                vec![
                    text("standard_name", standard),
                    text("long_name", standard),
                    text("units", units),
                ],
            ));
        }
    }
    if time {
        variables.push(var(
            "time",
            vec![],
            DataType::F64,
            vec![
                text("standard_name", "time"),
                text("units", "seconds since 1970-01-01 00:00:00"),
                text("calendar", "proleptic_gregorian"),
            ],
        ));
    }
    let dimensions = [band, y, x]
        .into_iter()
        .map(|d| Dimension {
            name: d.name,
            path: d.path,
            len: d.len,
            unlimited: false,
        })
        .collect();
    DatasetMeta {
        root: Group {
            name: String::new(),
            path: "/".into(),
            dimensions,
            variables,
            attributes: vec![text("Conventions", "CF-1.8")],
            groups: vec![],
            user_types: Default::default(),
        },
    }
}

/// Seconds since 1970 of a TIFF date-time (`YYYY:MM:DD HH:MM:SS`).
pub(super) fn tiff_datetime(s: &str) -> Option<f64> {
    let s = s.trim();
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // Days from 1970-01-01 in the proleptic Gregorian calendar.
    let (y2, m2) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + sec) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes() {
        assert_eq!(tiff_datetime("1970:01:01 00:00:00"), Some(0.0));
        assert_eq!(tiff_datetime("2021:03:04 05:06:07"), Some(1_614_834_367.0));
        assert_eq!(tiff_datetime("2000:02:29 00:00:00"), Some(951_782_400.0));
        assert_eq!(tiff_datetime("2021-13-04"), None);
        assert_eq!(tiff_datetime("garbage"), None);
    }

    #[test]
    fn fill_values_fit_the_type() {
        assert_eq!(
            fill_value("255", DataType::U8),
            Some(AttrValue::U8(vec![255]))
        );
        assert_eq!(
            fill_value("-9999", DataType::I16),
            Some(AttrValue::I16(vec![-9999]))
        );
        assert_eq!(fill_value("-1", DataType::U8), None);
        assert_eq!(fill_value("0.5", DataType::I32), None);
        assert!(
            matches!(fill_value("nan", DataType::F32), Some(AttrValue::F32(v)) if v[0].is_nan())
        );
    }
}
