//! OPeNDAP DAP2: `.dds`, `.das`, `.dods`, `.ascii`/`.asc`, `.html` (and the bare URL),
//! `.info`, `.ver`, and `.nc` (NetCDF-4 of the constrained variables).

mod ascii;
pub mod ce;
mod das;
mod dds;
mod download;
mod error;
mod headers;
mod html;
mod schema;
pub mod selection;
mod sequence;
mod stream;
pub mod xdr;

use std::sync::Arc;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

pub use error::{Dap2Error, error_response};
pub use schema::{Dap2Type, Schema};

use crate::app::{AppState, OpendapRequest};
use crate::cache::{VersionKey, ViewCache, Weight};
use crate::catalog::Dataset;
use crate::http::{not_modified, validators};
use crate::model::ArrayValues;
use crate::subset::Hyperslab;
use selection::Projected;

/// The DAP2 responses, by URL suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Html,
    Dds,
    Das,
    Dods,
    Ascii,
    Info,
    Ver,
    Nc,
}

impl Kind {
    fn of(suffix: &str) -> Option<Kind> {
        Some(match suffix {
            "" | ".html" => Kind::Html,
            ".dds" => Kind::Dds,
            ".das" => Kind::Das,
            ".dods" => Kind::Dods,
            ".ascii" | ".asc" => Kind::Ascii,
            ".info" => Kind::Info,
            ".ver" => Kind::Ver,
            ".nc" => Kind::Nc,
            _ => return None,
        })
    }
}

/// Answers `/opendap/{id}{suffix}` for DAP2 suffixes.
pub async fn respond(
    state: AppState,
    caches: &Dap2Caches,
    id: String,
    suffix: String,
    req: OpendapRequest,
) -> Response {
    match handle(&state, caches, &id, &suffix, &req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// The views DAP2 derives from a dataset version, cached (built at start-up by the
/// OPeNDAP service that owns them).
pub struct Dap2Caches {
    schemas: ViewCache<VersionKey, Arc<Schema>>,
    /// Longest value, in bytes, of each netCDF-4 string variable. DAS `strlen` needs
    /// it, or netCDF-C cuts strings at 64 characters.
    string_lens: ViewCache<(VersionKey, String), StringLen>,
    /// Rendered DAS and unconstrained DDS: what clients ask first, every time.
    documents: ViewCache<(VersionKey, Kind), bytes::Bytes>,
    /// Feature indexes of DSG datasets, for their sequence view.
    features: sequence::FeatureIndexes,
}

impl Dap2Caches {
    pub fn new(cache: &crate::config::CacheConfig, metrics: &Arc<crate::metrics::Metrics>) -> Self {
        Dap2Caches {
            schemas: ViewCache::new("dap2_schema", cache.derived_bytes, metrics),
            string_lens: ViewCache::new("dap2_string_len", cache.derived_bytes, metrics),
            documents: ViewCache::new("dap2_document", cache.derived_bytes, metrics),
            features: ViewCache::new("dap2_features", cache.derived_bytes, metrics),
        }
    }
}

impl Weight for Schema {
    fn weight(&self) -> usize {
        // Names, types and dimensions: a few hundred bytes an item.
        (self.items.len() + self.omitted.len() + self.groups.len()).saturating_mul(512)
    }
}

#[derive(Debug, Clone, Copy)]
struct StringLen(Option<usize>);

impl Weight for StringLen {
    fn weight(&self) -> usize {
        16
    }
}

async fn schema_of(caches: &Dap2Caches, ds: &Dataset) -> Arc<Schema> {
    caches
        .schemas
        .get_with(VersionKey::of(ds), async {
            Arc::new(Schema::build(&ds.meta))
        })
        .await
}

/// Strings longer than this many elements are not scanned for the DAS.
const MAX_SCANNED_STRINGS: usize = 1_000_000;

async fn string_len(
    caches: &Dap2Caches,
    ds: &Arc<Dataset>,
    path: &str,
    block_bytes: usize,
) -> Option<usize> {
    let key = (VersionKey::of(ds), path.to_string());
    if let Some(n) = caches.string_lens.get(&key).await {
        return n.0;
    }
    let var = ds.meta.variable(path)?;
    let n = if var.num_elements() > MAX_SCANNED_STRINGS {
        None
    } else {
        use futures::StreamExt;
        let mut longest = 0;
        let mut blocks =
            std::pin::pin!(ds.read_blocks(path, &Hyperslab::full(&var.shape()), block_bytes));
        let mut ok = true;
        while let Some(b) = blocks.next().await {
            match b {
                Ok(a) => {
                    if let ArrayValues::Str(v) = a.values {
                        longest = v.iter().map(String::len).fold(longest, usize::max);
                    }
                }
                Err(_) => ok = false,
            }
        }
        ok.then_some(longest)
    };
    caches.string_lens.insert(key, StringLen(n)).await;
    n
}

fn text_response(
    body: impl Into<axum::body::Body>,
    content_type: &'static str,
    description: Option<&'static str>,
) -> Response {
    let mut r = ([(header::CONTENT_TYPE, content_type)], body.into()).into_response();
    if let Some(d) = description {
        headers::set_description(r.headers_mut(), d);
    }
    r
}

/// Server headers and the dataset's validators.
fn finish(mut r: Response, ds: &Dataset) -> Response {
    headers::add_server_headers(r.headers_mut());
    for (k, v) in validators(ds) {
        r.headers_mut().insert(k, v);
    }
    r
}

/// Every answer is computed from the dataset's current version: a matching validator
/// gives 304 for any of them.
async fn handle(
    state: &AppState,
    caches: &Dap2Caches,
    id: &str,
    suffix: &str,
    req: &OpendapRequest,
) -> Result<Response, Dap2Error> {
    if let Some(rest) = suffix.strip_prefix(sequence::SEQUENCE_PATH) {
        let ds = state.catalog.open(id).await?;
        let r = sequence::respond(state, &caches.features, &ds, rest, req)
            .await
            .map_err(|e| e.redacted(&ds))?;
        return Ok(finish(r, &ds));
    }
    let kind = Kind::of(suffix).ok_or_else(|| {
        Dap2Error::NotFound(format!(
            "{id}{suffix}: unknown response type {suffix:?}; DAP2 serves .dds, .das, .dods, .ascii, .html, .info, .ver and .nc"
        ))
    })?;
    let ds = state.catalog.open(id).await?;
    answer(state, caches, &ds, kind, req)
        .await
        .map_err(|e| e.redacted(&ds))
}

async fn answer(
    state: &AppState,
    caches: &Dap2Caches,
    ds: &Arc<Dataset>,
    kind: Kind,
    req: &OpendapRequest,
) -> Result<Response, Dap2Error> {
    let ds = ds.clone();
    if kind == Kind::Ver {
        let body = format!(
            "Core version: {}\nServer version: {}\nDAP protocol version: {}\n",
            headers::DODS_SERVER,
            headers::server_version(),
            headers::DAP_VERSION
        );
        return Ok(finish(
            text_response(body, "text/plain; charset=utf-8", Some("dods_version")),
            &ds,
        ));
    }
    if let Some(r) = not_modified(&req.headers, &ds) {
        return Ok(finish(r, &ds));
    }
    let schema = schema_of(caches, &ds).await;
    let block_bytes = state.config.limits.read_block_bytes.max(1);
    let das_text = |strings: &std::collections::HashMap<String, usize>| {
        das::das(&ds.meta, &schema, &|p| strings.get(p).copied())
    };
    let response = match kind {
        Kind::Das | Kind::Info => {
            let das = caches
                .documents
                .get_with((VersionKey::of(&ds), Kind::Das), async {
                    let mut strings = std::collections::HashMap::new();
                    for v in ds.meta.variables() {
                        if v.dtype == crate::model::DataType::String
                            && let Some(n) = string_len(caches, &ds, &v.path, block_bytes).await
                        {
                            strings.insert(v.path.clone(), n);
                        }
                    }
                    bytes::Bytes::from(das_text(&strings))
                })
                .await;
            if kind == Kind::Das {
                text_response(das, "text/plain; charset=utf-8", Some("dods_das"))
            } else {
                let das = String::from_utf8_lossy(&das);
                let dds = dds::dds(
                    &ds.id,
                    &selection::select(&schema, &ce::Constraint::default())?,
                );
                html::info(&ds, &dds, &das)
            }
        }
        Kind::Dds => {
            let whole = req.query.as_deref().is_none_or(str::is_empty);
            let key = (VersionKey::of(&ds), Kind::Dds);
            let hit = match whole {
                true => caches.documents.get(&key).await,
                false => None,
            };
            let dds = match hit {
                Some(hit) => hit,
                None => {
                    let text = bytes::Bytes::from(dds::dds(&ds.id, &constrained(&schema, req)?));
                    if whole {
                        caches.documents.insert(key, text.clone()).await;
                    }
                    text
                }
            };
            text_response(dds, "text/plain; charset=utf-8", Some("dods_dds"))
        }
        Kind::Html => {
            let base = crate::http::base_url(state, &req.headers);
            html::form(&ds, &schema, &base)
        }
        Kind::Dods => {
            let projected = validated(state, &schema, req)?;
            let mut header = dds::dds(&ds.id, &projected).into_bytes();
            header.extend_from_slice(b"Data:\n");
            let exact = exact_size(&projected).and_then(|n| n.checked_add(header.len() as u64));
            let body = stream::body(
                ds.clone(),
                projected,
                header,
                block_bytes,
                exact,
                encode_xdr,
            )
            .await?;
            let mut r = Response::new(body);
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            if let Some(n) = exact {
                r.headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(n));
            }
            headers::set_description(r.headers_mut(), "dods_data");
            r
        }
        Kind::Ascii => {
            let projected = validated(state, &schema, req)?;
            let header = format!("Dataset: {}\n", ds.id).into_bytes();
            let body = stream::body(
                ds.clone(),
                projected,
                header,
                block_bytes,
                None,
                ascii::encoder(),
            )
            .await?;
            let mut r = Response::new(body);
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            headers::set_description(r.headers_mut(), "dods_data");
            r
        }
        Kind::Nc if req.method == axum::http::Method::HEAD => {
            download::netcdf_head(&ds, &validated(state, &schema, req)?)?
        }
        Kind::Nc => {
            let projected = validated(state, &schema, req)?;
            download::netcdf(&ds, &projected, block_bytes).await?
        }
        Kind::Ver => unreachable!("answered above"),
    };
    Ok(finish(response, &ds))
}

fn constrained(schema: &Schema, req: &OpendapRequest) -> Result<Vec<Projected>, Dap2Error> {
    let ce = ce::parse(req.query.as_deref()).map_err(|e| Dap2Error::BadRequest(e.to_string()))?;
    selection::select(schema, &ce)
}

/// The one validation point of a data request (`.dods`, `.ascii`, `.nc`), before
/// anything is read or any header sent: the constrained shapes (checked against the
/// dimensions by `select`), each array's count (XDR writes it as a u32), and the total
/// size against `limits.max_response_bytes`, all in checked arithmetic.
fn validated(
    state: &AppState,
    schema: &Schema,
    req: &OpendapRequest,
) -> Result<Vec<Projected>, Dap2Error> {
    let projected = constrained(schema, req)?;
    for s in projected.iter().flat_map(|p| p.members()) {
        if s.slab
            .checked_num_elements()
            .is_none_or(|n| n > u32::MAX as usize)
        {
            return Err(Dap2Error::BadRequest(format!(
                "{}: DAP2 cannot send more than {} values of one array; request a subset",
                s.array.name,
                u32::MAX
            )));
        }
    }
    let limit = state.config.limits.max_response_bytes;
    match data_size(&projected) {
        Some(size) if size <= limit => Ok(projected),
        size => Err(Dap2Error::TooLarge { size, limit }),
    }
}

/// Size of the data part, counting strings at their longest when known (netCDF-4
/// strings: 4 bytes each plus what cannot be known before reading); `None` if it does
/// not fit a u64.
fn data_size(projected: &[Projected]) -> Option<u64> {
    projected
        .iter()
        .flat_map(|p| p.members())
        .map(|s| {
            xdr::encoded_size(s.array.dtype, s.count(), s.array.char_len, s.is_scalar())
                .unwrap_or_else(|| (s.count() as u64).saturating_mul(4).saturating_add(4))
        })
        .try_fold(0u64, |total, n| total.checked_add(n))
}

fn exact_size(projected: &[Projected]) -> Option<u64> {
    let all_fixed = projected
        .iter()
        .flat_map(|p| p.members())
        .all(|s| s.array.dtype != Dap2Type::String);
    if all_fixed {
        data_size(projected)
    } else {
        None
    }
}

fn encode_xdr(ev: stream::Event<'_>, out: &mut Vec<u8>) {
    match ev {
        stream::Event::Start(_, s) => xdr::prefix(s.array.dtype, s.count(), s.is_scalar(), out),
        stream::Event::Block(s, a) => xdr::values(
            s.array.dtype,
            &a.values,
            s.array.char_len,
            s.is_scalar(),
            out,
        ),
        stream::Event::End(s) => xdr::suffix(s.array.dtype, s.count(), s.is_scalar(), out),
    }
}
