//! GetFeatureInfo answers: the value of each queried layer at a pixel, as text/plain,
//! application/json, text/xml or text/html.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::{ExceptionCode, WmsError, xml_escape};

/// The value of one layer at the queried point.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureValue {
    pub layer: String,
    /// The queried point.
    pub longitude: f64,
    pub latitude: f64,
    /// The observation feature found (observation layers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// The centre of the grid cell found, or the observation's position, if any.
    pub cell_longitude: Option<f64>,
    pub cell_latitude: Option<f64>,
    pub time: Option<String>,
    pub elevation: Option<f64>,
    /// `None` off the grid or for missing data.
    pub value: Option<f64>,
    pub units: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoFormat {
    Text,
    Json,
    Xml,
    Html,
}

impl InfoFormat {
    pub fn parse(v: Option<&str>) -> Result<InfoFormat, WmsError> {
        let Some(v) = v else {
            return Ok(InfoFormat::Text);
        };
        match v
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "text/plain" => Ok(InfoFormat::Text),
            "application/json" | "json" | "application/geo+json" => Ok(InfoFormat::Json),
            "text/xml" | "application/xml" | "application/vnd.ogc.gml" => Ok(InfoFormat::Xml),
            "text/html" => Ok(InfoFormat::Html),
            _ => Err(WmsError::new(
                ExceptionCode::InvalidFormat,
                format!("unsupported INFO_FORMAT {v:?}"),
            )),
        }
    }
}

fn value_text(v: Option<f64>) -> String {
    v.map_or_else(
        || "none".to_string(),
        |x| crate::model::format_float(x, false),
    )
}

pub fn respond(values: &[FeatureValue], format: InfoFormat) -> Response {
    match format {
        InfoFormat::Json => {
            let body = serde_json::json!({ "type": "FeatureInfo", "features": values });
            (
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        }
        InfoFormat::Text => {
            let mut s = String::new();
            for v in values {
                s.push_str(&format!(
                    "layer: {}\nlongitude: {}\nlatitude: {}\n",
                    v.layer, v.longitude, v.latitude
                ));
                if let Some(f) = &v.feature {
                    s.push_str(&format!("feature: {f}\n"));
                    if let (Some(x), Some(y)) = (v.cell_longitude, v.cell_latitude) {
                        s.push_str(&format!("feature longitude: {x}\nfeature latitude: {y}\n"));
                    }
                }
                if let Some(t) = &v.time {
                    s.push_str(&format!("time: {t}\n"));
                }
                if let Some(e) = v.elevation {
                    s.push_str(&format!("elevation: {e}\n"));
                }
                s.push_str(&format!(
                    "value: {}{}\n\n",
                    value_text(v.value),
                    v.units
                        .as_ref()
                        .map(|u| format!(" {u}"))
                        .unwrap_or_default()
                ));
            }
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], s).into_response()
        }
        InfoFormat::Xml => {
            let mut s =
                String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<FeatureInfoResponse>\n");
            for v in values {
                s.push_str(&format!(
                    "<FeatureInfo>\n<layer>{}</layer>\n<longitude>{}</longitude>\n<latitude>{}</latitude>\n",
                    xml_escape(&v.layer),
                    v.longitude,
                    v.latitude
                ));
                if let Some(f) = &v.feature {
                    s.push_str(&format!("<feature>{}</feature>\n", xml_escape(f)));
                    if let (Some(x), Some(y)) = (v.cell_longitude, v.cell_latitude) {
                        s.push_str(&format!(
                            "<featureLongitude>{x}</featureLongitude>\n<featureLatitude>{y}</featureLatitude>\n"
                        ));
                    }
                }
                if let Some(t) = &v.time {
                    s.push_str(&format!("<time>{}</time>\n", xml_escape(t)));
                }
                if let Some(e) = v.elevation {
                    s.push_str(&format!("<elevation>{e}</elevation>\n"));
                }
                s.push_str(&format!("<value>{}</value>\n", value_text(v.value)));
                if let Some(u) = &v.units {
                    s.push_str(&format!("<units>{}</units>\n", xml_escape(u)));
                }
                s.push_str("</FeatureInfo>\n");
            }
            s.push_str("</FeatureInfoResponse>\n");
            ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], s).into_response()
        }
        InfoFormat::Html => {
            let mut s = String::from(
                "<!DOCTYPE html>\n<html><body><table>\n<tr><th>layer</th><th>longitude</th><th>latitude</th><th>time</th><th>elevation</th><th>value</th></tr>\n",
            );
            for v in values {
                // An observation feature is named beside its layer.
                let layer = match &v.feature {
                    Some(f) => format!("{} ({f})", v.layer),
                    None => v.layer.clone(),
                };
                s.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td></tr>\n",
                    xml_escape(&layer),
                    v.longitude,
                    v.latitude,
                    xml_escape(v.time.as_deref().unwrap_or("")),
                    v.elevation.map(|e| e.to_string()).unwrap_or_default(),
                    value_text(v.value),
                    xml_escape(v.units.as_deref().unwrap_or(""))
                ));
            }
            s.push_str("</table></body></html>\n");
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], s).into_response()
        }
    }
}
