//! Deterministic test and demo datasets, written with netCDF-C. Tests, benchmarks, the
//! conformance harness (`datagate make-fixtures DIR`) and the demo catalog all use these,
//! so every suite sees the same files. Compiled only for tests and with the `fixtures`
//! feature: not part of a production build.

use std::path::{Path, PathBuf};

use netcdf::types::NcTypeDescriptor;
use netcdf::{Extent, FileMut, Options};

use crate::writers::NcChar;

pub type FixtureResult = Result<(), netcdf::Error>;

/// Names of the files `write_all` creates.
pub const FIXTURES: &[&str] = &[
    "sst_classic.nc",
    "offset64.nc",
    "types_cdf5.nc",
    "types_nc4.nc",
    "gridded_nc4.nc",
    "curvilinear.nc",
];

/// Writes every fixture into `dir`; returns their paths.
pub fn write_all(dir: &Path) -> Result<Vec<PathBuf>, netcdf::Error> {
    std::fs::create_dir_all(dir).map_err(|e| netcdf::Error::Str(e.to_string()))?;
    sst_classic(&dir.join("sst_classic.nc"), Options::empty())?;
    sst_classic(&dir.join("offset64.nc"), Options::_64BIT_OFFSET)?;
    types_cdf5(&dir.join("types_cdf5.nc"))?;
    types_nc4(&dir.join("types_nc4.nc"))?;
    gridded_nc4(&dir.join("gridded_nc4.nc"))?;
    curvilinear(&dir.join("curvilinear.nc"))?;
    Ok(FIXTURES.iter().map(|f| dir.join(f)).collect())
}

fn create(path: &Path, options: Options) -> Result<FileMut, netcdf::Error> {
    let _ = std::fs::remove_file(path);
    netcdf::create_with(path, options)
}

fn text_var(file: &mut FileMut, name: &str, dims: &[&str], text: &[u8]) -> FixtureResult {
    let mut v = file.add_variable::<NcChar>(name, dims)?;
    let chars: Vec<NcChar> = text.iter().map(|b| NcChar(*b)).collect();
    v.put_values(&chars, ..)?;
    Ok(())
}

/// The value of the `sst` test field at (t, lat index, lon index): a smooth field,
/// with land (fill) at two cells.
pub fn sst_value(t: usize, j: usize, i: usize) -> Option<f32> {
    if (j == 2 && i == 3) || (j == 7 && i == 11) {
        return None;
    }
    let lat = 45.0 - 10.0 * j as f32;
    Some(300.0 - lat.abs() * 0.5 + t as f32 * 0.25 + i as f32 * 0.01)
}

/// NetCDF-3: time (unlimited, noleap), descending latitude, 0..360 longitudes, float
/// field with fill, the same field packed in int16, a signed byte field, a char array.
#[allow(clippy::single_range_in_vec_init)]
pub fn sst_classic(path: &Path, options: Options) -> FixtureResult {
    let (nt, ny, nx) = (3usize, 10usize, 18usize);
    let mut f = create(path, options)?;
    f.add_attribute("title", "Sea surface temperature (datagate test fixture)")?;
    f.add_attribute("Conventions", "CF-1.8")?;
    f.add_attribute("institution", "Météo \"test\" centre \\ ünïcode")?;
    f.add_attribute("history", "line one\nline two\ttabbed")?;
    f.add_attribute("version", 3i32)?;
    f.add_attribute("scale_list", vec![0.5f64, 1.5, 2.5])?;
    f.add_unlimited_dimension("time")?;
    f.add_dimension("lat", ny)?;
    f.add_dimension("lon", nx)?;
    f.add_dimension("name_strlen", 8)?;
    // NetCDF-3 files are defined completely before any data is written.
    {
        let mut v = f.add_variable::<f64>("time", &["time"])?;
        v.put_attribute("units", "days since 2000-01-01 00:00:00")?;
        v.put_attribute("calendar", "noleap")?;
        v.put_attribute("standard_name", "time")?;
        v.put_attribute("axis", "T")?;
    }
    {
        let mut v = f.add_variable::<f32>("lat", &["lat"])?;
        v.put_attribute("units", "degrees_north")?;
        v.put_attribute("standard_name", "latitude")?;
        v.put_attribute("axis", "Y")?;
    }
    {
        let mut v = f.add_variable::<f32>("lon", &["lon"])?;
        v.put_attribute("units", "degrees_east")?;
        v.put_attribute("standard_name", "longitude")?;
        v.put_attribute("axis", "X")?;
    }
    {
        let mut v = f.add_variable::<f32>("sst", &["time", "lat", "lon"])?;
        v.set_fill_value(-999.0f32)?;
        v.put_attribute("units", "K")?;
        v.put_attribute("standard_name", "sea_surface_temperature")?;
        v.put_attribute("long_name", "sea surface \"skin\" temperature")?;
        v.put_attribute("valid_min", 250.0f32)?;
        v.put_attribute("valid_max", 320.0f32)?;
    }
    {
        let mut v = f.add_variable::<i16>("sst_packed", &["time", "lat", "lon"])?;
        v.set_fill_value(-32768i16)?;
        v.put_attribute("scale_factor", 0.01f32)?;
        v.put_attribute("add_offset", 273.15f32)?;
        v.put_attribute("units", "K")?;
        v.put_attribute("standard_name", "sea_surface_temperature")?;
    }
    f.add_variable::<i8>("quality", &["time", "lat", "lon"])?
        .put_attribute("long_name", "quality flag (signed byte)")?;
    f.add_variable::<NcChar>("platform", &["name_strlen"])?;
    f.enddef()?;

    let mut sst = Vec::with_capacity(nt * ny * nx);
    let mut packed = Vec::with_capacity(nt * ny * nx);
    let mut quality = Vec::with_capacity(nt * ny * nx);
    for t in 0..nt {
        for j in 0..ny {
            for i in 0..nx {
                let v = sst_value(t, j, i);
                sst.push(v.unwrap_or(-999.0));
                packed.push(v.map_or(-32768i16, |x| ((x - 273.15) / 0.01).round() as i16));
                quality.push(((((t * ny + j) * nx + i) * 7 % 256) as u8 as i8) ^ i8::MIN);
            }
        }
    }
    let lat: Vec<f32> = (0..ny).map(|j| 45.0 - 10.0 * j as f32).collect();
    let lon: Vec<f32> = (0..nx).map(|i| 20.0 * i as f32).collect();
    put(&mut f, "time", &[0.0f64, 31.0, 59.0], &[0..nt])?;
    put(&mut f, "lat", &lat, &[0..ny])?;
    put(&mut f, "lon", &lon, &[0..nx])?;
    put(&mut f, "sst", &sst, &[0..nt, 0..ny, 0..nx])?;
    put(&mut f, "sst_packed", &packed, &[0..nt, 0..ny, 0..nx])?;
    put(&mut f, "quality", &quality, &[0..nt, 0..ny, 0..nx])?;
    let chars: Vec<NcChar> = b"ARGO-123".iter().map(|b| NcChar(*b)).collect();
    put(&mut f, "platform", &chars, &[0..8])?;
    Ok(())
}

#[allow(clippy::single_range_in_vec_init)]
fn put<T: NcTypeDescriptor>(
    f: &mut FileMut,
    name: &str,
    values: &[T],
    ranges: &[std::ops::Range<usize>],
) -> FixtureResult {
    let extents: Vec<Extent> = ranges.iter().map(|r| r.clone().into()).collect();
    f.variable_mut(name)
        .ok_or_else(|| netcdf::Error::Str(format!("no variable {name}")))?
        .put_values(values, extents.as_slice())
}

/// CDF-5: the unsigned and 64-bit integer types NetCDF-3 gained in version 5.
#[allow(clippy::single_range_in_vec_init)]
pub fn types_cdf5(path: &Path) -> FixtureResult {
    let mut f = create(path, Options::_64BIT_DATA)?;
    f.add_attribute("title", "CDF-5 types")?;
    f.add_dimension("n", 4)?;
    f.add_variable::<u8>("v_u8", &["n"])?;
    f.add_variable::<u16>("v_u16", &["n"])?;
    f.add_variable::<u32>("v_u32", &["n"])?;
    f.add_variable::<i64>("v_i64", &["n"])?;
    f.add_variable::<u64>("v_u64", &["n"])?;
    f.enddef()?;
    let n = [0..4];
    put(&mut f, "v_u8", &[0u8, 1, 254, 255], &n)?;
    put(&mut f, "v_u16", &[0u16, 1, 65534, 65535], &n)?;
    put(&mut f, "v_u32", &[0u32, 1, 4_000_000_000, u32::MAX], &n)?;
    put(&mut f, "v_i64", &[i64::MIN, -1, 1 << 40, i64::MAX], &n)?;
    put(&mut f, "v_u64", &[0u64, 1, 1 << 63, u64::MAX], &n)?;
    Ok(())
}

/// NetCDF-4: every atomic type, attributes of every type, strings with any UTF-8,
/// nested groups with a dimension inherited from the parent, a scalar.
pub fn types_nc4(path: &Path) -> FixtureResult {
    let mut f = create(path, Options::NETCDF4)?;
    f.add_attribute("title", "NetCDF-4 types and groups")?;
    f.add_attribute("Conventions", "CF-1.8")?;
    f.add_attribute("keywords", vec!["ocean", "tëst", "quote\"d"])?;
    f.add_dimension("x", 4)?;
    f.add_unlimited_dimension("rec")?;
    f.add_dimension("strlen", 5)?;
    {
        let mut v = f.add_variable::<i8>("v_i8", &["x"])?;
        v.put_values(&[i8::MIN, -1, 0, i8::MAX], ..)?;
        v.put_attribute("a_i8", vec![-1i8, 2])?;
        v.put_attribute("a_u8", vec![1u8, 255])?;
        v.put_attribute("a_i16", -300i16)?;
        v.put_attribute("a_u16", 65000u16)?;
        v.put_attribute("a_i32", -70000i32)?;
        v.put_attribute("a_u32", 4_000_000_000u32)?;
        v.put_attribute("a_i64", i64::MIN)?;
        v.put_attribute("a_u64", u64::MAX)?;
        v.put_attribute("a_f32", vec![1.5f32, f32::NAN])?;
        v.put_attribute("a_f64", vec![-2.25f64, 1e300])?;
        v.put_attribute("a_text", "tab\there, \"quoted\", back\\slash, ünï")?;
        v.put_attribute("a_strings", vec!["one", "twö"])?;
    }
    f.add_variable::<u8>("v_u8", &["x"])?
        .put_values(&[0u8, 1, 128, 255], ..)?;
    f.add_variable::<i16>("v_i16", &["x"])?
        .put_values(&[i16::MIN, -1, 1, i16::MAX], ..)?;
    f.add_variable::<u16>("v_u16", &["x"])?
        .put_values(&[0u16, 1, 40000, u16::MAX], ..)?;
    f.add_variable::<i32>("v_i32", &["x"])?
        .put_values(&[i32::MIN, -1, 1, i32::MAX], ..)?;
    f.add_variable::<u32>("v_u32", &["x"])?
        .put_values(&[0u32, 1, 3_000_000_000, u32::MAX], ..)?;
    f.add_variable::<i64>("v_i64", &["x"])?
        .put_values(&[i64::MIN, -1, 1 << 53, i64::MAX], ..)?;
    f.add_variable::<u64>("v_u64", &["x"])?
        .put_values(&[0u64, 1, 1 << 63, u64::MAX], ..)?;
    f.add_variable::<f32>("v_f32", &["x"])?
        .put_values(&[-1.5f32, 0.0, 3.25e10, f32::NAN], ..)?;
    f.add_variable::<f64>("v_f64", &["x"])?
        .put_values(&[-1.5f64, 0.1, 1e-300, f64::INFINITY], ..)?;
    text_var(
        &mut f,
        "v_char",
        &["x", "strlen"],
        b"abcdeAB\0\0\0hello12345",
    )?;
    {
        let mut v = f.add_string_variable("v_string", &["x"])?;
        for (i, s) in ["", "plain", "ünïcödé ✓", "with \"quotes\" and\nnewline"]
            .iter()
            .enumerate()
        {
            v.put_string(s, [i])?;
        }
    }
    {
        let mut v = f.add_variable::<f64>("scalar_f64", &[])?;
        v.put_attribute("units", "1")?;
        v.put_value(42.5f64, ..)?;
    }
    {
        let mut v = f.add_variable::<i32>("counter", &["rec"])?;
        v.put_values(&[10i32, 20, 30], &[Extent::from(0..3)][..])?;
    }
    {
        let mut g = f.add_group("forecast")?;
        g.add_attribute("model", "test-model")?;
        g.add_dimension("member", 3)?;
        let mut v = g.add_variable::<f32>("temp", &["member", "x"])?;
        v.put_attribute("units", "degC")?;
        let vals: Vec<f32> = (0..12).map(|k| k as f32 * 0.5 - 1.0).collect();
        v.put_values(&vals, ..)?;
        let mut deep = g.add_group("deep")?;
        let mut s = deep.add_variable::<f64>("salinity", &["x"])?;
        s.put_attribute("units", "psu")?;
        s.put_values(&[35.0f64, 35.1, 35.2, 35.3], ..)?;
    }
    Ok(())
}

/// The value of the 4-D `temp` test field; `None` marks fill.
pub fn temp_value(t: usize, k: usize, j: usize, i: usize) -> Option<f32> {
    if j == 0 && i < 3 {
        return None;
    }
    Some(20.0 - 2.0 * k as f32 + t as f32 * 0.5 + (j as f32 - 10.0).abs() * -0.5 + i as f32 * 0.05)
}

/// NetCDF-4 chunked, deflated and shuffled 4-D grid (time, depth, lat, lon) with a
/// proleptic Gregorian time axis, depth positive down, a contiguous mask and a
/// sparsely written variable (chunks never written).
pub fn gridded_nc4(path: &Path) -> FixtureResult {
    let (nt, nz, ny, nx) = (4usize, 3usize, 20usize, 36usize);
    let mut f = create(path, Options::NETCDF4)?;
    f.add_attribute("title", "Ocean temperature (chunked NetCDF-4 test fixture)")?;
    f.add_attribute("Conventions", "CF-1.8")?;
    f.add_dimension("time", nt)?;
    f.add_dimension("depth", nz)?;
    f.add_dimension("lat", ny)?;
    f.add_dimension("lon", nx)?;
    {
        let mut v = f.add_variable::<f64>("time", &["time"])?;
        v.put_attribute("units", "hours since 2020-01-01 00:00:00")?;
        v.put_attribute("calendar", "proleptic_gregorian")?;
        v.put_attribute("standard_name", "time")?;
        v.put_values(&[0.0f64, 6.0, 12.0, 18.0], ..)?;
    }
    {
        let mut v = f.add_variable::<f32>("depth", &["depth"])?;
        v.put_attribute("units", "m")?;
        v.put_attribute("positive", "down")?;
        v.put_attribute("standard_name", "depth")?;
        v.put_values(&[0.0f32, 10.0, 50.0], ..)?;
    }
    {
        let mut v = f.add_variable::<f32>("lat", &["lat"])?;
        v.put_attribute("units", "degrees_north")?;
        let lat: Vec<f32> = (0..ny).map(|j| -47.5 + 5.0 * j as f32).collect();
        v.put_values(&lat, ..)?;
    }
    {
        let mut v = f.add_variable::<f32>("lon", &["lon"])?;
        v.put_attribute("units", "degrees_east")?;
        let lon: Vec<f32> = (0..nx).map(|i| -175.0 + 10.0 * i as f32).collect();
        v.put_values(&lon, ..)?;
    }
    {
        let mut v = f.add_variable::<f32>("temp", &["time", "depth", "lat", "lon"])?;
        v.set_chunking(&[1, 1, 10, 18])?;
        v.set_compression(4, true)?;
        v.set_fill_value(1e20f32)?;
        v.put_attribute("units", "degC")?;
        v.put_attribute("standard_name", "sea_water_temperature")?;
        v.put_attribute("long_name", "Sea water temperature")?;
        let mut vals = Vec::with_capacity(nt * nz * ny * nx);
        for t in 0..nt {
            for k in 0..nz {
                for j in 0..ny {
                    for i in 0..nx {
                        vals.push(temp_value(t, k, j, i).unwrap_or(1e20));
                    }
                }
            }
        }
        v.put_values(&vals, ..)?;
    }
    {
        let mut v = f.add_variable::<u8>("mask", &["lat", "lon"])?;
        v.put_attribute("long_name", "land mask")?;
        let vals: Vec<u8> = (0..ny * nx)
            .map(|k| u8::from(k % nx < 3 && k < nx))
            .collect();
        v.put_values(&vals, ..)?;
    }
    {
        let mut v = f.add_variable::<i32>("sparse", &["lat", "lon"])?;
        v.set_chunking(&[10, 12])?;
        v.set_compression(1, false)?;
        v.set_fill_value(-1i32)?;
        let vals: Vec<i32> = (0..10 * 12).collect();
        v.put_values(
            &vals,
            [
                Extent::SliceCount {
                    start: 0,
                    count: 10,
                    stride: 1,
                },
                Extent::SliceCount {
                    start: 0,
                    count: 12,
                    stride: 1,
                },
            ]
            .as_slice(),
        )?;
    }
    Ok(())
}

/// NetCDF-4 curvilinear grid: 2-D latitude and longitude, data with `coordinates`.
pub fn curvilinear(path: &Path) -> FixtureResult {
    let (nt, ny, nx) = (2usize, 6usize, 8usize);
    let mut f = create(path, Options::NETCDF4)?;
    f.add_attribute("title", "Curvilinear grid test fixture")?;
    f.add_attribute("Conventions", "CF-1.8")?;
    f.add_dimension("time", nt)?;
    f.add_dimension("y", ny)?;
    f.add_dimension("x", nx)?;
    {
        let mut v = f.add_variable::<f64>("time", &["time"])?;
        v.put_attribute("units", "days since 2010-01-01")?;
        v.put_attribute("calendar", "standard")?;
        v.put_values(&[0.0f64, 1.0], ..)?;
    }
    // A grid rotated by 30°, centred at (10E, 50N), ~1° spacing.
    let (sin, cos) = 30f64.to_radians().sin_cos();
    let mut lat = Vec::new();
    let mut lon = Vec::new();
    for j in 0..ny {
        for i in 0..nx {
            let (x, y) = (i as f64 - 3.5, j as f64 - 2.5);
            lon.push(10.0 + x * cos - y * sin);
            lat.push(50.0 + x * sin + y * cos);
        }
    }
    {
        let mut v = f.add_variable::<f64>("lat", &["y", "x"])?;
        v.put_attribute("units", "degrees_north")?;
        v.put_attribute("standard_name", "latitude")?;
        v.put_values(&lat, ..)?;
    }
    {
        let mut v = f.add_variable::<f64>("lon", &["y", "x"])?;
        v.put_attribute("units", "degrees_east")?;
        v.put_attribute("standard_name", "longitude")?;
        v.put_values(&lon, ..)?;
    }
    {
        let mut v = f.add_variable::<f32>("temp", &["time", "y", "x"])?;
        v.put_attribute("units", "K")?;
        v.put_attribute("coordinates", "lat lon")?;
        v.put_attribute("long_name", "air temperature")?;
        let vals: Vec<f32> = (0..nt * ny * nx).map(|k| 280.0 + k as f32 * 0.1).collect();
        v.put_values(&vals, ..)?;
    }
    Ok(())
}

/// A large chunked, compressed NetCDF-4 file for benchmarks: `temp(time, lat, lon)` of
/// f32, `nt` time steps of 720×1440 (~4 MB each).
pub fn large_nc4(path: &Path, nt: usize) -> FixtureResult {
    let (ny, nx) = (720usize, 1440usize);
    let mut f = create(path, Options::NETCDF4)?;
    f.add_dimension("time", nt)?;
    f.add_dimension("lat", ny)?;
    f.add_dimension("lon", nx)?;
    let lat: Vec<f32> = (0..ny).map(|j| -89.875 + 0.25 * j as f32).collect();
    let lon: Vec<f32> = (0..nx).map(|i| -179.875 + 0.25 * i as f32).collect();
    f.add_variable::<f32>("lat", &["lat"])?
        .put_values(&lat, ..)?;
    f.add_variable::<f32>("lon", &["lon"])?
        .put_values(&lon, ..)?;
    let t: Vec<f64> = (0..nt).map(|k| k as f64).collect();
    {
        let mut v = f.add_variable::<f64>("time", &["time"])?;
        v.put_attribute("units", "days since 2000-01-01")?;
        v.put_values(&t, ..)?;
    }
    let mut v = f.add_variable::<f32>("temp", &["time", "lat", "lon"])?;
    v.set_chunking(&[1, 180, 360])?;
    v.set_compression(1, true)?;
    v.put_attribute("units", "K")?;
    for k in 0..nt {
        let vals: Vec<f32> = (0..ny * nx)
            .map(|p| {
                280.0 + ((p / nx) as f32 * 0.01).sin() * 10.0 + (p % nx) as f32 * 1e-3 + k as f32
            })
            .collect();
        v.put_values(&vals, [k..k + 1, 0..ny, 0..nx])?;
    }
    Ok(())
}

/// A daily series for aggregation tests: `n` files `daily/sst_YYYYMMDD.nc` from
/// 2020-01-30, each with one time step (in its own units: `hours since` that day) of
/// `sst(time, lat, lon)`; `undated/grid_YYYYMMDD.nc`, the same fields without a time
/// dimension; and `daily/sst_bad.nc`, whose grid differs (to be excluded).
#[allow(clippy::single_range_in_vec_init)]
pub fn daily_series(dir: &Path, n: usize) -> Result<Vec<PathBuf>, netcdf::Error> {
    let (ny, nx) = (4usize, 5usize);
    let mut out = Vec::new();
    for sub in ["daily", "undated"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| netcdf::Error::Str(e.to_string()))?;
    }
    let units = TimeUnitsLite::standard_day(2020, 1, 30);
    for k in 0..n {
        let (y, m, d) = units.date(k as i64);
        let stamp = format!("{y:04}{m:02}{d:02}");
        for (sub, with_time) in [("daily", true), ("undated", false)] {
            let name = if with_time {
                format!("sst_{stamp}.nc")
            } else {
                format!("grid_{stamp}.nc")
            };
            let path = dir.join(sub).join(name);
            let mut f = create(&path, Options::NETCDF4)?;
            f.add_attribute("title", "daily test series")?;
            if with_time {
                f.add_unlimited_dimension("time")?;
            }
            f.add_dimension("lat", ny)?;
            f.add_dimension("lon", nx)?;
            if with_time {
                let mut t = f.add_variable::<f64>("time", &["time"])?;
                t.put_attribute(
                    "units",
                    format!("hours since {y:04}-{m:02}-{d:02} 00:00:00").as_str(),
                )?;
                t.put_attribute("calendar", "standard")?;
                t.put_values(&[12.0f64], [0..1])?;
            }
            let lat: Vec<f32> = (0..ny).map(|j| 10.0 + j as f32).collect();
            let lon: Vec<f32> = (0..nx).map(|i| 20.0 + i as f32).collect();
            {
                let mut v = f.add_variable::<f32>("lat", &["lat"])?;
                v.put_attribute("units", "degrees_north")?;
                v.put_values(&lat, ..)?;
            }
            {
                let mut v = f.add_variable::<f32>("lon", &["lon"])?;
                v.put_attribute("units", "degrees_east")?;
                v.put_values(&lon, ..)?;
            }
            let dims: &[&str] = if with_time {
                &["time", "lat", "lon"]
            } else {
                &["lat", "lon"]
            };
            let mut v = f.add_variable::<f32>("sst", dims)?;
            v.put_attribute("units", "K")?;
            let vals: Vec<f32> = (0..ny * nx)
                .map(|p| 280.0 + k as f32 + p as f32 * 0.01)
                .collect();
            v.put_values(&vals, ..)?;
            out.push(path);
        }
    }
    let bad = dir.join("daily/sst_bad.nc");
    let mut f = create(&bad, Options::NETCDF4)?;
    f.add_unlimited_dimension("time")?;
    f.add_dimension("lat", ny + 1)?;
    f.add_dimension("lon", nx)?;
    let mut t = f.add_variable::<f64>("time", &["time"])?;
    t.put_attribute("units", "hours since 2021-01-01 00:00:00")?;
    t.put_values(&[0.0f64], [0..1])?;
    f.add_variable::<f32>("lat", &["lat"])?;
    f.add_variable::<f32>("lon", &["lon"])?;
    f.add_variable::<f32>("sst", &["time", "lat", "lon"])?;
    out.push(bad);
    Ok(out)
}

/// Just enough calendar to name daily files (standard calendar, after 1582).
struct TimeUnitsLite(crate::model::cf::TimeUnits);

impl TimeUnitsLite {
    fn standard_day(y: i64, m: u32, d: u32) -> Self {
        TimeUnitsLite(
            crate::model::cf::TimeUnits::parse(&format!("days since {y:04}-{m:02}-{d:02}"), None)
                .expect("valid units"),
        )
    }

    fn date(&self, days: i64) -> (i64, u32, u32) {
        let t = self.0.decode(days as f64).expect("finite");
        (t.year, t.month, t.day)
    }
}
