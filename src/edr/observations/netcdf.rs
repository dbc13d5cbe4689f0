//! Filtered observations as a CF discrete sampling geometry NetCDF-4 file, in the
//! contiguous ragged layout (CF H.2.4, H.3.4, H.4.3, H.5.4): the features one after the
//! other along `obs`, `row_size(feature)` with `sample_dimension`, the `cf_role` ids,
//! per-feature coordinates on the feature dimension and per-observation ones on `obs`;
//! point files stay flat. Stations' and trajectories' profiles take the ragged layout
//! of CF H.5.3 and H.6.3 (see `nested_layout`). Values are decoded (NaN as fill), as in every EDR answer.

use axum::response::Response;

use super::super::error::{EdrError, EdrResult};
use super::collection::ObsCollection;
use super::encode::FeatureData;
use crate::features::{Feature, FeatureType, Level};
use crate::model::{
    Array, ArrayValues, AttrValue, Attribute, DataType, DatasetMeta, DimRef, Dimension, Group,
    Variable,
};
use crate::writers::NetcdfWriter;

/// A coordinate: its source variable, how many values a feature stores, and value `k`.
type CoordAccess<'a> = (
    &'a Option<Variable>,
    fn(&Feature) -> usize,
    fn(&Feature, usize) -> f64,
);

fn text(name: &str, v: &str) -> Attribute {
    Attribute::new(name, AttrValue::Text(v.into()))
}

fn kept(v: &Variable) -> Vec<Attribute> {
    v.attributes
        .iter()
        .filter(|a| !dropped(&a.name))
        .cloned()
        .collect()
}

fn dim(name: &str, len: usize) -> DimRef {
    DimRef {
        name: name.into(),
        path: format!("/{name}"),
        len,
    }
}

fn var(name: &str, dims: &[&DimRef], dtype: DataType, attributes: Vec<Attribute>) -> Variable {
    Variable {
        name: name.into(),
        path: format!("/{name}"),
        dims: dims.iter().map(|d| (*d).clone()).collect(),
        dtype,
        attributes,
        chunks: None,
    }
}

/// The global attributes: the source's, with the answer's history, featureType and
/// Conventions.
fn globals(col: &ObsCollection) -> Vec<Attribute> {
    let mut globals: Vec<Attribute> = col
        .ds
        .meta
        .attributes()
        .iter()
        .filter(|a| !matches!(a.name.as_str(), "featureType" | "Conventions" | "history"))
        .cloned()
        .collect();
    let attr = |n: &str| {
        col.ds
            .meta
            .attributes()
            .iter()
            .find(|a| a.name == n)
            .and_then(|a| a.value.as_text())
    };
    if attr("title").is_none() {
        globals.push(text("title", &col.title));
    }
    let history = format!(
        "datagate: observations of {} selected through OGC API EDR",
        col.id
    );
    globals.push(text(
        "history",
        &attr("history").map_or(history.clone(), |h| format!("{h}\n{history}")),
    ));
    globals.push(text("featureType", col.index.schema.feature_type.name()));
    globals.push(text("Conventions", "CF-1.8"));
    globals
}

fn dimension(name: &str, len: usize) -> Dimension {
    Dimension {
        name: name.into(),
        path: format!("/{name}"),
        len,
        unlimited: false,
    }
}

/// Stations' or trajectories' profiles (CF H.5.3, H.6.3): `feature`, `profile` and
/// `obs` dimensions; the ids and once-per-feature positions on `feature`; each
/// profile's time (and position, along a trajectory), its feature's index
/// (`instance_dimension`) and its observation count (`sample_dimension`) on
/// `profile`; the vertical coordinate and the values on `obs`.
fn nested_layout(
    col: &ObsCollection,
    data: &[FeatureData],
    params: &[usize],
) -> (DatasetMeta, Vec<(String, ArrayValues)>) {
    let s = &col.index.schema;
    let ft = s.feature_type;
    // Each profile: (feature position in the answer, feature, its picked observations).
    let mut profiles: Vec<(usize, &Feature, Vec<usize>, u32)> = Vec::new();
    for (fi, d) in data.iter().enumerate() {
        let f = &col.index.features[d.picked.feature];
        for &k in &d.picked.obs {
            let p = f.profile_of(k).map_or(0, |p| p.index);
            match profiles.last_mut() {
                Some(last) if last.0 == fi && last.3 == p => last.2.push(k),
                _ => profiles.push((fi, f, vec![k], p)),
            }
        }
    }
    let n_obs: usize = profiles.iter().map(|p| p.2.len()).sum();
    let feature = dim("feature", data.len());
    let profile = dim("profile", profiles.len());
    let obs = dim("obs", n_obs);
    let feats: Vec<&Feature> = data
        .iter()
        .map(|d| &col.index.features[d.picked.feature])
        .collect();
    let mut vars = Vec::new();
    let mut values: Vec<(String, ArrayValues)> = Vec::new();
    let id_name =
        s.id.as_ref()
            .map_or("feature_id".into(), |v| v.name.clone());
    let mut attrs = s.id.as_ref().map(kept).unwrap_or_default();
    if !attrs.iter().any(|a| a.name == "cf_role") {
        attrs.push(text("cf_role", ft.cf_role().unwrap_or("timeseries_id")));
    }
    vars.push(var(&id_name, &[&feature], DataType::String, attrs));
    values.push((
        id_name.clone(),
        ArrayValues::Str(feats.iter().map(|f| f.id.clone()).collect()),
    ));
    let profile_name = if id_name == "profile" {
        "profile_number"
    } else {
        "profile"
    };
    vars.push(var(
        profile_name,
        &[&profile],
        DataType::I32,
        vec![
            text("cf_role", "profile_id"),
            text("long_name", "index of the profile in the source file"),
        ],
    ));
    values.push((
        profile_name.into(),
        ArrayValues::I32(profiles.iter().map(|p| p.3 as i32).collect()),
    ));
    vars.push(var(
        "feature_index",
        &[&profile],
        DataType::I32,
        vec![
            text("long_name", "which feature each profile belongs to"),
            text("instance_dimension", "feature"),
        ],
    ));
    values.push((
        "feature_index".into(),
        ArrayValues::I32(profiles.iter().map(|p| p.0 as i32).collect()),
    ));
    vars.push(var(
        "row_size",
        &[&profile],
        DataType::I32,
        vec![
            text("long_name", "number of observations of each profile"),
            text("sample_dimension", "obs"),
        ],
    ));
    values.push((
        "row_size".into(),
        ArrayValues::I32(profiles.iter().map(|p| p.2.len() as i32).collect()),
    ));
    let mut coord_names = Vec::new();
    let coords: [CoordAccess<'_>; 4] = [
        (&s.t, |f| f.t.len(), |f, k| f.t(k)),
        (&Some(s.y.clone()), |f| f.y.len(), |f, k| f.y(k)),
        (&Some(s.x.clone()), |f| f.x.len(), |f, k| f.x(k)),
        (&s.z, |f| f.z.len(), |f, k| f.z(k)),
    ];
    for (i, (source, _, get)) in coords.into_iter().enumerate() {
        let Some(v) = source else { continue };
        let is_z = i == 3;
        // A station's position is given once per station; times and a trajectory's
        // positions once per profile (CF H.5.3, H.6.3).
        let per_feature = matches!(s.level(v), Some(Level::Instance | Level::Scalar));
        let (d, vals): (&DimRef, Vec<f64>) = if is_z {
            let vals = profiles
                .iter()
                .flat_map(|p| p.2.iter().map(|&k| get(p.1, k)))
                .collect();
            (&obs, vals)
        } else if per_feature {
            (&feature, feats.iter().map(|f| get(f, 0)).collect())
        } else {
            (
                &profile,
                profiles.iter().map(|p| get(p.1, p.2[0])).collect(),
            )
        };
        vars.push(var(&v.name, &[d], DataType::F64, kept(v)));
        values.push((v.name.clone(), ArrayValues::F64(vals)));
        coord_names.push(v.name.clone());
    }
    for (pi_pos, &pi) in params.iter().enumerate() {
        let p = &col.params[pi];
        let vals: Vec<f64> = data
            .iter()
            .flat_map(|d| d.values[pi_pos].iter().copied())
            .collect();
        let (v, vals) = data_var(p, vals, &obs, &coord_names);
        vars.push(v);
        values.push((p.var.name.clone(), vals));
    }
    let meta = DatasetMeta {
        root: Group {
            name: String::new(),
            path: "/".into(),
            dimensions: vec![
                dimension("feature", data.len()),
                dimension("profile", profiles.len()),
                dimension("obs", n_obs),
            ],
            variables: vars,
            attributes: globals(col),
            groups: vec![],
            user_types: Default::default(),
        },
    };
    (meta, values)
}

/// An observed variable on `obs`: decoded values, NaN as fill.
fn data_var(
    p: &super::super::collection::Param,
    vals: Vec<f64>,
    obs: &DimRef,
    coord_names: &[String],
) -> (Variable, ArrayValues) {
    let mut attrs = kept(&p.var);
    attrs.push(text("coordinates", &coord_names.join(" ")));
    let (dtype, fill, vals) = if p.single {
        let v: Vec<f32> = vals.iter().map(|x| *x as f32).collect();
        (
            DataType::F32,
            AttrValue::F32(vec![f32::NAN]),
            ArrayValues::F32(v),
        )
    } else {
        (
            DataType::F64,
            AttrValue::F64(vec![f64::NAN]),
            ArrayValues::F64(vals),
        )
    };
    attrs.push(Attribute::new("_FillValue", fill));
    (var(&p.var.name, &[obs], dtype, attrs), vals)
}

/// The file's structure and the values of each variable.
fn layout(
    col: &ObsCollection,
    data: &[FeatureData],
    params: &[usize],
) -> (DatasetMeta, Vec<(String, ArrayValues)>) {
    let s = &col.index.schema;
    let ft = s.feature_type;
    let flat = ft == FeatureType::Point;
    let n_obs: usize = data.iter().map(|d| d.picked.obs.len()).sum();
    let feature = dim("feature", data.len());
    let obs = dim("obs", n_obs);
    let mut vars = Vec::new();
    let mut values: Vec<(String, ArrayValues)> = Vec::new();
    let feats: Vec<&Feature> = data
        .iter()
        .map(|d| &col.index.features[d.picked.feature])
        .collect();
    // Coordinates given per feature in the source stay per feature.
    let per_feature = |list_len: usize| !flat && list_len == 1;
    let per_obs_values = |get: &dyn Fn(&Feature, usize) -> f64| -> Vec<f64> {
        data.iter()
            .zip(&feats)
            .flat_map(|(d, f)| d.picked.obs.iter().map(move |&k| get(f, k)))
            .collect()
    };
    if !flat {
        let id_attrs = s.id.as_ref().map(kept).unwrap_or_default();
        let id_name =
            s.id.as_ref()
                .map_or("feature_id".to_string(), |v| v.name.clone());
        let mut attrs = id_attrs;
        if !attrs.iter().any(|a| a.name == "cf_role") {
            attrs.push(text("cf_role", ft.cf_role().unwrap_or("timeseries_id")));
        }
        vars.push(var(&id_name, &[&feature], DataType::String, attrs));
        values.push((
            id_name,
            ArrayValues::Str(feats.iter().map(|f| f.id.clone()).collect()),
        ));
        vars.push(var(
            "row_size",
            &[&feature],
            DataType::I32,
            vec![
                text("long_name", "number of observations of each feature"),
                text("sample_dimension", "obs"),
            ],
        ));
        let counts = data.iter().map(|d| d.picked.obs.len() as i32).collect();
        values.push(("row_size".into(), ArrayValues::I32(counts)));
    }
    let mut coord_names = Vec::new();
    let coords: [CoordAccess<'_>; 4] = [
        (&s.t, |f| f.t.len(), |f, k| f.t(k)),
        (&Some(s.y.clone()), |f| f.y.len(), |f, k| f.y(k)),
        (&Some(s.x.clone()), |f| f.x.len(), |f, k| f.x(k)),
        (&s.z, |f| f.z.len(), |f, k| f.z(k)),
    ];
    for (source, len, get) in coords {
        let Some(v) = source else { continue };
        let once = feats.iter().all(|f| per_feature(len(f)));
        let (d, vals) = if once {
            (&feature, feats.iter().map(|f| get(f, 0)).collect())
        } else {
            (&obs, per_obs_values(&|f, k| get(f, k)))
        };
        vars.push(var(&v.name, &[d], DataType::F64, kept(v)));
        values.push((v.name.clone(), ArrayValues::F64(vals)));
        coord_names.push(v.name.clone());
    }
    for (pi_pos, &pi) in params.iter().enumerate() {
        let p = &col.params[pi];
        let mut attrs = kept(&p.var);
        attrs.push(text("coordinates", &coord_names.join(" ")));
        let vals: Vec<f64> = data
            .iter()
            .flat_map(|d| d.values[pi_pos].iter().copied())
            .collect();
        let (dtype, fill, vals) = if p.single {
            let v: Vec<f32> = vals.iter().map(|x| *x as f32).collect();
            (
                DataType::F32,
                AttrValue::F32(vec![f32::NAN]),
                ArrayValues::F32(v),
            )
        } else {
            (
                DataType::F64,
                AttrValue::F64(vec![f64::NAN]),
                ArrayValues::F64(vals),
            )
        };
        attrs.push(Attribute::new("_FillValue", fill));
        vars.push(var(&p.var.name, &[&obs], dtype, attrs));
        values.push((p.var.name.clone(), vals));
    }
    let globals = globals(col);
    let mut dimensions = vec![Dimension {
        name: "obs".into(),
        path: "/obs".into(),
        len: n_obs,
        unlimited: false,
    }];
    if !flat {
        dimensions.insert(
            0,
            Dimension {
                name: "feature".into(),
                path: "/feature".into(),
                len: data.len(),
                unlimited: false,
            },
        );
    }
    let meta = DatasetMeta {
        root: Group {
            name: String::new(),
            path: "/".into(),
            dimensions,
            variables: vars,
            attributes: globals,
            groups: vec![],
            user_types: Default::default(),
        },
    };
    (meta, values)
}

/// Writes the observations to a temporary NetCDF-4 file and streams it.
pub async fn respond(
    col: &ObsCollection,
    data: &[FeatureData],
    params: &[usize],
) -> EdrResult<Response> {
    let internal = |e: crate::writers::WriteError| EdrError::Internal(e.to_string());
    let (meta, values) = if col.index.schema.feature_type.is_nested() {
        nested_layout(col, data, params)
    } else {
        layout(col, data, params)
    };
    let writer = NetcdfWriter::create(&meta, None).await.map_err(internal)?;
    for (name, vals) in values {
        let n = vals.len();
        if n == 0 {
            continue;
        }
        writer
            .write(&name, vec![0], Array::new(vec![n], vals))
            .await
            .map_err(internal)?;
    }
    let file = writer.finish().await.map_err(internal)?;
    crate::http::netcdf_download(file, &col.id, "-observations")
        .await
        .map_err(|e| EdrError::Internal(e.to_string()))
}

/// Attributes of the stored form (packing, storage, `coordinates`), not carried over to
/// the decoded values written.
fn dropped(name: &str) -> bool {
    use crate::model::cf::{PACKING_ATTRIBUTES, STORAGE_ATTRIBUTES};
    PACKING_ATTRIBUTES.contains(&name)
        || STORAGE_ATTRIBUTES.contains(&name)
        || name == "coordinates"
        || ["sample_dimension", "instance_dimension"].contains(&name)
}
