//! Custom dimensions (OGC API EDR 1.1): a gridded variable's dimensions beyond the
//! horizontal, time and vertical ones, each with a 1-D coordinate variable (a GRIB
//! forecast's `step`, an ensemble's `number`). The collection lists them in
//! `extent.custom`; a query selects them with `{id}=value`, a list `a,b` or a range
//! `a/b`, and without it gets each dimension's first value. The answer holds one
//! coverage per selected combination, each naming its values (CoverageJSON: the
//! domain's `custom` member; CSV/GeoJSON: a column / property per dimension; NetCDF:
//! an attribute).

use serde_json::{Value, json};

use super::collection::{Collection, Group};
use super::coverage::Coverage;
use super::custom_axis::{CustomAxis, CustomSel, Fixed, indices, parse};
use super::error::EdrResult;

/// The ids of the collection's custom dimensions (each once).
pub fn ids(col: &Collection) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in col.groups.iter().flat_map(|g| &g.custom) {
        if !out.contains(&a.id) {
            out.push(a.id.clone());
        }
    }
    out
}

/// The custom-dimension selections among a query's parameters.
pub fn selections(
    col: &Collection,
    get: impl Fn(&str) -> Option<String>,
) -> EdrResult<Vec<(String, CustomSel)>> {
    let mut out = Vec::new();
    for id in ids(col) {
        if let Some(v) = get(&id) {
            out.push((id.clone(), parse(&id, &v)?));
        }
    }
    Ok(out)
}

/// Each coverage repeated for every combination of the values selected on its group's
/// custom dimensions (one coverage per step, per member, ...).
pub fn expand(
    col: &Collection,
    sels: &[(String, CustomSel)],
    covs: Vec<Coverage>,
) -> EdrResult<Vec<Coverage>> {
    let mut out = Vec::with_capacity(covs.len());
    for cov in covs {
        let group: &Group = &col.groups[cov.group];
        let mut combos: Vec<Vec<Fixed>> = vec![Vec::new()];
        for axis in &group.custom {
            let sel = sels.iter().find(|(id, _)| *id == axis.id).map(|(_, s)| s);
            let picked = indices(axis, sel)?;
            combos = combos
                .into_iter()
                .flat_map(|fixed| {
                    picked.iter().map(move |&i| {
                        let mut f = fixed.clone();
                        f.push(Fixed {
                            id: axis.id.clone(),
                            dim: axis.dim,
                            index: i,
                            value: axis.values[i],
                        });
                        f
                    })
                })
                .collect();
        }
        for fixed in combos {
            let mut c = cov.clone();
            c.fixed = fixed;
            out.push(c);
        }
    }
    Ok(out)
}

/// The collection extent's `custom` member, or `None` when it has no custom dimension.
pub fn extent(col: &Collection) -> Option<Value> {
    let mut entries = Vec::new();
    for id in ids(col) {
        let axes: Vec<&CustomAxis> = col
            .groups
            .iter()
            .flat_map(|g| &g.custom)
            .filter(|a| a.id == id)
            .collect();
        let mut values: Vec<f64> = axes.iter().flat_map(|a| a.values.iter().copied()).collect();
        values.sort_by(f64::total_cmp);
        values.dedup();
        let (lo, hi) = (values[0], values[values.len() - 1]);
        entries.push(json!({
            "id": id,
            "interval": [[lo, hi]],
            "values": values.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            "reference": axes[0].reference,
        }));
    }
    (!entries.is_empty()).then(|| Value::Array(entries))
}
