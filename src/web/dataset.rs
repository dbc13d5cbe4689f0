//! A dataset's description: what its page shows and what `/datasets/{id}` answers
//! with in JSON (attributes, variables, extents, endpoints, snippets).

use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::pages;
use super::search::Card;
use crate::app::AppState;
use crate::catalog::Dataset;
use crate::model::{AttrValue, Attribute};

#[derive(Serialize)]
pub struct Description {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub collection: String,
    pub format: String,
    pub feature_type: String,
    pub attributes: Vec<AttrView>,
    pub dimensions: Vec<DimView>,
    pub variables: Vec<VarView>,
    pub bbox: Option<[f64; 4]>,
    pub start: Option<String>,
    pub end: Option<String>,
    /// GeoJSON of observations' places or tracks, or a swath's outline.
    pub geometry: Option<serde_json::Value>,
    pub links: Vec<LinkView>,
    pub snippets: Vec<Snippet>,
    /// `/opendap/{id}` and the other bases the page's scripts build URLs on.
    pub urls: Urls,
}

#[derive(Serialize)]
pub struct AttrView {
    pub name: String,
    pub value: String,
}

#[derive(Serialize)]
pub struct DimView {
    pub name: String,
    pub len: usize,
}

#[derive(Serialize)]
pub struct VarView {
    pub name: String,
    pub dims: Vec<String>,
    pub shape: Vec<usize>,
    pub dtype: &'static str,
    /// Bytes per value (0 when variable-length).
    pub item_bytes: usize,
    pub units: String,
    pub standard_name: String,
    pub long_name: String,
    pub coordinate: bool,
    pub attributes: Vec<AttrView>,
}

#[derive(Serialize)]
pub struct LinkView {
    pub rel: &'static str,
    pub title: &'static str,
    pub href: String,
    #[serde(rename = "type")]
    pub media_type: &'static str,
}

impl From<crate::endpoint::Endpoint> for LinkView {
    fn from(e: crate::endpoint::Endpoint) -> LinkView {
        LinkView {
            rel: e.rel,
            title: e.title,
            href: e.href,
            media_type: e.media_type,
        }
    }
}

/// Code that opens the dataset, ready to copy.
#[derive(Serialize)]
pub struct Snippet {
    pub label: &'static str,
    pub code: String,
}

#[derive(Serialize, Default)]
pub struct Urls {
    pub opendap: Option<String>,
    pub wms: Option<String>,
    pub edr: Option<String>,
    pub zarr: Option<String>,
}

fn attr_text(v: &AttrValue) -> String {
    v.to_strings().join(", ")
}

fn attrs(list: &[Attribute]) -> Vec<AttrView> {
    list.iter()
        .map(|a| AttrView {
            name: a.name.clone(),
            value: attr_text(&a.value),
        })
        .collect()
}

pub async fn describe(state: &AppState, base: &str, ds: &Dataset, card: &Card) -> Description {
    let meta = &ds.meta;
    let variables: Vec<VarView> = meta
        .variables()
        .into_iter()
        .map(|v| {
            let text = |n: &str| v.attr(n).and_then(AttrValue::as_text).unwrap_or_default();
            VarView {
                name: v.name.clone(),
                dims: v.dims.iter().map(|d| d.name.clone()).collect(),
                shape: v.shape(),
                dtype: v.dtype.name(),
                item_bytes: v.dtype.size().unwrap_or(0),
                units: text("units"),
                standard_name: text("standard_name"),
                long_name: text("long_name"),
                coordinate: v.is_coordinate_variable(),
                attributes: attrs(&v.attributes),
            }
        })
        .collect();
    let mut dimensions: Vec<DimView> = Vec::new();
    for v in meta.variables() {
        for d in &v.dims {
            if !dimensions.iter().any(|x| x.name == d.name) {
                dimensions.push(DimView {
                    name: d.name.clone(),
                    len: d.len,
                });
            }
        }
    }
    let (mut bbox, mut start, mut end) = (card.bbox, card.start.clone(), card.end.clone());
    if bbox.is_none()
        && let Ok(extent) = ds.extent().await
    {
        bbox = extent.bbox.map(|b| b.to_array());
        start = start.or(extent.time.map(|t| t.0.to_iso()));
        end = end.or(extent.time.map(|t| t.1.to_iso()));
    }
    let links: Vec<LinkView> = state
        .services
        .endpoints(base, &ds.id)
        .into_iter()
        .map(LinkView::from)
        .collect();
    let href = |rel: &str| links.iter().find(|l| l.rel == rel).map(|l| l.href.clone());
    let urls = Urls {
        opendap: href("opendap"),
        wms: href("wms").map(|h| h.split('?').next().unwrap_or("").to_string()),
        edr: href("edr"),
        zarr: href("zarr"),
    };
    // A variable for the examples: a data variable with the most dimensions.
    let example = variables
        .iter()
        .filter(|v| !v.coordinate)
        .rev()
        .max_by_key(|v| v.dims.len())
        .map(|v| v.name.clone())
        .unwrap_or_default();
    let snippets = snippets(&ds.id, &example, &urls, &href);
    Description {
        id: ds.id.clone(),
        title: ds.title.clone(),
        summary: card.summary.clone(),
        collection: card.collection.clone(),
        format: card.format.clone(),
        feature_type: card.feature_type.clone(),
        attributes: attrs(meta.attributes()),
        dimensions,
        variables,
        bbox,
        start,
        end,
        geometry: card.geometry.clone(),
        links,
        snippets,
        urls,
    }
}

fn snippets(
    id: &str,
    var: &str,
    urls: &Urls,
    href: &dyn Fn(&str) -> Option<String>,
) -> Vec<Snippet> {
    let mut out = Vec::new();
    if let Some(u) = &urls.opendap {
        out.push(Snippet {
            label: "xarray over DAP2 (netCDF4 engine)",
            code: format!("import xarray as xr\nds = xr.open_dataset(\"{u}\", engine=\"netcdf4\")"),
        });
        // pydap picks DAP4 by the URL's scheme.
        let dap4 = u
            .replacen("https://", "dap4://", 1)
            .replacen("http://", "dap4://", 1);
        out.push(Snippet {
            label: "xarray over DAP4 (pydap engine)",
            code: format!(
                "import xarray as xr\nds = xr.open_dataset(\"{dap4}\", engine=\"pydap\")"
            ),
        });
        out.push(Snippet {
            label: "ncdump (netCDF-C)",
            code: format!("ncdump -h \"{u}\""),
        });
    }
    if let Some(u) = &urls.zarr {
        out.push(Snippet {
            label: "xarray over virtual Zarr",
            code: format!("import xarray as xr\nds = xr.open_zarr(\"{u}\", consolidated=True)"),
        });
    }
    if let Some(u) = href("references") {
        out.push(Snippet {
            label: "kerchunk references (fsspec)",
            code: format!(
                "import xarray as xr\nds = xr.open_dataset(\"reference://\", engine=\"zarr\",\n    backend_kwargs={{\"consolidated\": False, \"storage_options\": {{\"fo\": \"{u}\"}}}})"
            ),
        });
    }
    if let Some(u) = &urls.wms {
        out.push(Snippet {
            label: "QGIS: Layer › Add WMS/WMTS Layer › New connection, URL",
            code: u.clone(),
        });
    }
    if let Some(u) = &urls.edr
        && !var.is_empty()
    {
        out.push(Snippet {
            label: "curl: an EDR position query (CoverageJSON)",
            code: format!("curl \"{u}/position?coords=POINT(0%200)&parameter-name={var}\""),
        });
    }
    if let Some(u) = href("notebook") {
        out.push(Snippet {
            label: "Jupyter notebook",
            code: format!("curl -o \"{}.ipynb\" \"{u}\"", id.replace('/', "_")),
        });
    }
    out
}

pub fn page(site: &pages::Site, description: Description) -> Response {
    pages::render(
        StatusCode::OK,
        site,
        "dataset.html",
        minijinja::context! { title => description.title.clone(), ds => description },
    )
}
