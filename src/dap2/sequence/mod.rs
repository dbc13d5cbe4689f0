//! DSG datasets as DAP2 Sequences, the way tables are served by ERDDAP's tabledap:
//! `/opendap/{id}/observations.dds|.das|.dods|.ascii` is a sibling dataset of the
//! arrays view (which stays at `/opendap/{id}`) holding one Sequence named after the
//! featureType (`timeSeries`, `profile`, `trajectory`, `point`), one row per
//! observation. Selection clauses (`&lat<40&time>="2021-03-01"`) are evaluated here.

mod body;
mod constraint;
mod table;
#[cfg(test)]
mod tests;

use std::fmt::Write;
use std::sync::Arc;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::das::{escape_string, write_attr};
use super::error::Dap2Error;
use super::headers;
use super::schema::escape_name;
use crate::app::{AppState, OpendapRequest};
use crate::cache::{VersionKey, ViewCache};
use crate::catalog::{Catalog, Dataset};
use crate::error::Kinded;
use crate::features::{FeatureIndex, UnionMember, build_index_off_the_workers, union};
use body::END_OF_SEQUENCE;
use table::Column;

/// The path below a dataset's id where its sequence view lives.
pub const SEQUENCE_PATH: &str = "/observations";

/// Feature indexes of dataset versions, owned by the OPeNDAP service.
pub type FeatureIndexes = ViewCache<VersionKey, Arc<FeatureIndex>>;

/// The feature index of a DSG file, or the union of its members' for an aggregation of
/// DSG files by their features (each member's built once per version).
async fn index_of(
    cache: &FeatureIndexes,
    catalog: &Catalog,
    ds: &Arc<Dataset>,
) -> Result<Arc<FeatureIndex>, Dap2Error> {
    let Some(ids) = catalog.feature_members(&ds.id) else {
        return file_index(cache, ds).await;
    };
    let mut members = Vec::new();
    for id in ids {
        let m = catalog.open(&id).await?;
        match file_index(cache, &m).await {
            Ok(index) => members.push(UnionMember { index, source: m }),
            Err(e) => tracing::warn!("dap2: {}: member {id}: {e}", ds.id),
        }
    }
    cache
        .try_get_with(
            VersionKey::of(ds),
            async move { union(members).map(Arc::new) },
        )
        .await
        .map_err(|e| Dap2Error::of_kind(e.kind(), e.public_message()))
}

async fn file_index(
    cache: &FeatureIndexes,
    ds: &Arc<Dataset>,
) -> Result<Arc<FeatureIndex>, Dap2Error> {
    let ds2 = ds.clone();
    cache
        .try_get_with(VersionKey::of(ds), async move {
            build_index_off_the_workers(ds2).await.map(Arc::new)
        })
        .await
        .map_err(|e| Dap2Error::of_kind(e.kind(), e.public_message()))
}

fn dds(name: &str, sequence: &str, cols: &[Column], out_cols: &[usize]) -> String {
    let mut out = String::from("Dataset {\n    Sequence {\n");
    for &c in out_cols {
        let ty = cols[c].dap2_type();
        let _ = writeln!(out, "        {ty} {};", escape_name(&cols[c].name));
    }
    let _ = writeln!(
        out,
        "    }} {};\n}} {};",
        escape_name(sequence),
        escape_name(name)
    );
    out
}

fn das(ds: &Dataset, index: &FeatureIndex, sequence: &str, cols: &[Column]) -> String {
    let mut out = String::from("Attributes {\n");
    let _ = writeln!(out, "    {} {{", escape_name(sequence));
    for c in cols {
        let _ = writeln!(out, "        {} {{", escape_name(&c.name));
        if let Some(v) = &c.var {
            for a in v
                .attributes
                .iter()
                .filter(|a| !crate::model::cf::PACKING_ATTRIBUTES.contains(&a.name.as_str()))
            {
                write_attr(&mut out, "            ", a, false);
            }
        }
        if c.var.is_none() {
            out.push_str("            String long_name \"feature index\";\n");
        }
        out.push_str("        }\n");
    }
    out.push_str("    }\n    NC_GLOBAL {\n");
    for a in ds.meta.attributes() {
        write_attr(&mut out, "        ", a, false);
    }
    let _ = writeln!(
        out,
        "        String datagate_sequence \"one row per observation of the {} features; values decoded (scale, offset) with missing data as NaN\";",
        escape_string(index.schema.feature_type.name())
    );
    out.push_str("    }\n}\n");
    out
}

fn text(body: String, description: &'static str) -> Response {
    let mut r = ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response();
    headers::set_description(r.headers_mut(), description);
    r
}

/// Answers `{id}/observations{suffix}`.
pub async fn respond(
    state: &AppState,
    cache: &FeatureIndexes,
    ds: &Arc<Dataset>,
    suffix: &str,
    req: &OpendapRequest,
) -> Result<Response, Dap2Error> {
    if !crate::features::is_dsg(&ds.meta) {
        return Err(Dap2Error::NotFound(format!(
            "{} has no CF discrete sampling geometry featureType: it has no observation sequence",
            ds.id
        )));
    }
    let index = index_of(cache, &state.catalog, ds).await?;
    let sequence = index.schema.feature_type.name();
    let name = format!("{}{SEQUENCE_PATH}", ds.id);
    let cols = table::columns(&index);
    let ce = constraint::parse(req.query.as_deref(), sequence)?;
    let plan = table::plan(&index, &cols, &ce)?;
    match suffix {
        ".dds" => Ok(text(dds(&name, sequence, &cols, &plan.out), "dods_dds")),
        ".das" => Ok(text(das(ds, &index, sequence, &cols), "dods_das")),
        ".dods" | ".ascii" | ".asc" => {
            let max = usize::try_from(state.config.limits.max_response_bytes).unwrap_or(usize::MAX);
            let header = dds(&name, sequence, &cols, &plan.out);
            let binary = suffix == ".dods";
            // Without a selection the size is known: refuse before sending anything.
            let size = table::dods_bytes(&index, &cols, &plan).saturating_add(header.len() as u64);
            if !plan.selects() && size > max as u64 {
                return Err(Dap2Error::TooLarge {
                    size: Some(size),
                    limit: max as u64,
                });
            }
            let (ds2, index2) = (ds.clone(), index.clone());
            let runtime = tokio::runtime::Handle::current();
            let (head, trailer) = if binary {
                (format!("{header}Data:\n"), END_OF_SEQUENCE.to_vec())
            } else {
                let names: Vec<String> = plan
                    .out
                    .iter()
                    .map(|&c| format!("{sequence}.{}", cols[c].name))
                    .collect();
                let rule = "---------------------------------------------";
                (
                    format!("{header}{rule}\n{}\n", names.join(", ")),
                    Vec::new(),
                )
            };
            // Filtering and encoding every row is CPU work: off the async workers.
            let data = body::stream(head.into_bytes(), trailer, binary, move |sink| {
                runtime.block_on(table::write(&*ds2, &index2, &cols, &plan, sink, max))
            })
            .await?;
            let mut r = Response::new(data);
            let ct = if binary {
                "application/octet-stream"
            } else {
                "text/plain; charset=utf-8"
            };
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            headers::set_description(r.headers_mut(), "dods_data");
            Ok(r)
        }
        other => Err(Dap2Error::NotFound(format!(
            "{name}{other}: the observation sequence serves .dds, .das, .dods and .ascii"
        ))),
    }
}
