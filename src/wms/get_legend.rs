//! GetLegendGraphic: the colour bar of a layer's style and range.

use axum::response::Response;
use bytes::Bytes;

use crate::app::AppState;

use super::encode::{self, ImageFormat};
use super::error::WmsError;
use super::get_map::image_response;
use super::legend;
use super::params::Params;
use super::service::{Scope, Wms};
use super::style::StyleRequest;

impl Wms {
    pub(super) async fn legend(
        &self,
        state: &AppState,
        scope: &Scope,
        p: &Params,
    ) -> Result<Response, WmsError> {
        let name = p
            .non_empty("LAYER")
            .or_else(|| p.non_empty("LAYERS"))
            .ok_or_else(|| WmsError::missing("missing parameter LAYER"))?;
        let style = p
            .non_empty("STYLE")
            .or_else(|| p.non_empty("STYLES"))
            .unwrap_or("");
        let (ds, layer) = self.resolve_layer(state, scope, name).await?;
        let request = StyleRequest::from_params(p, style, &state.config.wms.default_palette)?;
        let range = match request.range {
            Some(r) => r,
            None => self.default_range(&ds, &layer).await?,
        };
        let scale = request.scale(range);
        let size = |n: &str, default: u32| -> Result<u32, WmsError> {
            match p.non_empty(n) {
                None => Ok(default),
                Some(_) => p.dimension(n, 2048),
            }
        };
        let width = size("WIDTH", legend::DEFAULT_WIDTH)?;
        let height = size("HEIGHT", legend::DEFAULT_HEIGHT)?;
        let bar_only = p.flag("COLORBARONLY")?.unwrap_or(false);
        let format = ImageFormat::parse(p.non_empty("FORMAT").unwrap_or("image/png"))?;
        let canvas = legend::draw(&scale, layer.units(), width, height, bar_only);
        let bytes = encode::encode(&canvas.rgba, width, height, format, [255, 255, 255, 255])?;
        Ok(image_response(format, Bytes::from(bytes)))
    }
}
