//! `.html` (a data request form, like Hyrax's) and `.info` (DDS and DAS as HTML).

use std::fmt::Write;

use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::schema::{Dap2Array, Item, Schema, escape_name};
use crate::catalog::Dataset;
use crate::http::html_escape;

/// A page in the server's layout.
fn page(title: &str, body: &str) -> Response {
    let html = crate::site_page::document(
        title,
        "<style>td{padding:2px 8px;vertical-align:top}input.r{width:9em}</style>",
        body,
        "",
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// DDS and DAS of the dataset, as HTML.
pub fn info(ds: &Dataset, dds: &str, das: &str) -> Response {
    let body = format!(
        "<h1>{}</h1>\n<h2>Dataset Descriptor Structure</h2>\n<pre>{}</pre>\n<h2>Dataset Attribute Structure</h2>\n<pre>{}</pre>\n",
        html_escape(&ds.title),
        html_escape(dds),
        html_escape(das)
    );
    page(&format!("{}: DAP2 info", ds.id), &body)
}

fn array_row(out: &mut String, prefix: &str, a: &Dap2Array) {
    let name = format!("{prefix}{}", escape_name(&a.name));
    let _ = write!(
        out,
        "<tr><td><label><input type=\"checkbox\" class=\"v\" data-name=\"{}\"> <b>{}</b></label></td><td>{} ",
        html_escape(&name),
        html_escape(&a.name),
        a.dtype.name()
    );
    for d in &a.dims {
        let _ = write!(
            out,
            "{} <input class=\"r\" value=\"0:1:{}\" title=\"start:stride:stop\"> ",
            html_escape(&d.name),
            d.len.saturating_sub(1)
        );
    }
    let _ = writeln!(
        out,
        "</td><td>{}</td></tr>",
        html_escape(
            &a.var
                .attributes
                .iter()
                .find(|x| x.name == "long_name")
                .and_then(|x| x.value.as_text())
                .unwrap_or_default()
        )
    );
}

/// A form to pick variables and index ranges; it builds the constrained URL.
pub fn form(ds: &Dataset, schema: &Schema, base: &str) -> Response {
    let url = format!("{base}/opendap/{}", ds.id);
    let mut rows = String::new();
    for item in &schema.items {
        match item {
            Item::Array(a) => array_row(&mut rows, "", a),
            Item::Grid { array, maps } => {
                array_row(&mut rows, "", array);
                for m in maps {
                    let prefix = format!("{}.", escape_name(&array.name));
                    array_row(&mut rows, &prefix, m);
                }
            }
        }
    }
    let omitted: String = schema
        .omitted
        .iter()
        .map(|o| format!("<li>{}</li>", html_escape(&o.reason)))
        .collect();
    let body = format!(
        r#"<h1>{title}</h1>
<p>OPeNDAP DAP2 data request form. Dataset URL (for ncdump, xarray, Panoply...): <code>{url}</code>.
Also: <a href="{u}.dds">DDS</a> · <a href="{u}.das">DAS</a> · <a href="{u}.info">info</a></p>
<table>{rows}</table>
{omitted_list}
<p>Response: <select id="kind"><option>.ascii</option><option>.dods</option><option>.nc</option><option>.dds</option></select>
<button type="button" id="go">Get data</button></p>
<p>Request URL: <code id="out"></code></p>
<script>
function ce() {{
  var parts = [];
  document.querySelectorAll("tr").forEach(function (tr) {{
    var box = tr.querySelector("input.v");
    if (!box || !box.checked) return;
    var ranges = Array.from(tr.querySelectorAll("input.r")).map(function (r) {{ return "[" + r.value.trim() + "]"; }});
    parts.push(box.dataset.name + ranges.join(""));
  }});
  return parts.join(",");
}}
function url() {{
  var kind = document.getElementById("kind").value, c = ce();
  return {url_js} + kind + (c ? "?" + encodeURIComponent(c).replace(/%2C/g, ",") : "");
}}
document.addEventListener("change", function () {{ document.getElementById("out").textContent = url(); }});
document.getElementById("go").addEventListener("click", function () {{ window.location = url(); }});
document.getElementById("out").textContent = url();
</script>
"#,
        title = html_escape(&ds.title),
        url = html_escape(&url),
        u = html_escape(&url),
        rows = rows,
        omitted_list = if omitted.is_empty() {
            String::new()
        } else {
            format!("<p>Not available over DAP2:</p><ul>{omitted}</ul>")
        },
        url_js = serde_json::to_string(&url)
            .unwrap_or_default()
            .replace('<', "\\u003c"),
    );
    page(&format!("{}: DAP2 data request form", ds.id), &body)
}
