//! GetCapabilities: the document of the datasets in scope, cached by version, service
//! URL and the datasets' versions.

use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;

use crate::app::AppState;
use crate::auth::Principal;
use crate::http::base_url;

use super::Version;
use super::capabilities::{self, CapabilitiesInput};
use super::error::WmsError;
use super::layer_data::Opened;
use super::service::{Scope, Wms};

impl Wms {
    pub(super) async fn capabilities(
        &self,
        state: &AppState,
        viewer: &Principal,
        scope: &Scope,
        headers: &HeaderMap,
        version: Version,
    ) -> Result<Response, WmsError> {
        let base = base_url(state, headers);
        let (service_url, title, ids) = match scope {
            Scope::All => (
                format!("{base}/wms?"),
                "datagate WMS".to_string(),
                // The datasets this principal may see: the cache key below names
                // them, so one principal's document never reaches another's eyes.
                state
                    .catalog
                    .entries()
                    .keys()
                    .filter(|id| state.visible(viewer, id))
                    .cloned()
                    .collect::<Vec<_>>(),
            ),
            Scope::Dataset(id) => (
                format!("{base}/wms/{}?", capabilities::url_part(id)),
                format!("datagate WMS: {id}"),
                vec![id.clone()],
            ),
        };
        let opened: Vec<Opened> = futures::stream::iter(ids.clone())
            .map(|id| async move { self.dataset_layers(state, &id).await })
            .buffered(8)
            .collect()
            .await;
        let mut datasets = Vec::new();
        for (id, r) in ids.iter().zip(opened) {
            match r {
                Ok((_, l)) => datasets.push(l),
                Err(e) if matches!(scope, Scope::Dataset(_)) => return Err(e),
                Err(e) => tracing::warn!("wms: skipping dataset {id}: {e}"),
            }
        }
        let key = format!(
            "{}|{}|{}|{}",
            version.as_str(),
            service_url,
            scope.key(),
            datasets
                .iter()
                .map(|d| format!("{}={}", d.id, d.etag))
                .collect::<Vec<_>>()
                .join(",")
        );
        let wms_config = &state.config.wms;
        let body = self
            .caches
            .capabilities
            .get_with(key, async {
                Bytes::from(capabilities::document(&CapabilitiesInput {
                    version,
                    service_url: &service_url,
                    title: &title,
                    datasets: &datasets,
                    short_names: matches!(scope, Scope::Dataset(_)),
                    max_width: wms_config.max_width,
                    max_height: wms_config.max_height,
                    default_palette: &wms_config.default_palette,
                }))
            })
            .await;
        let content_type = match version {
            Version::V130 => "text/xml; charset=utf-8",
            Version::V111 => "application/vnd.ogc.wms_xml; charset=utf-8",
        };
        Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
    }
}
