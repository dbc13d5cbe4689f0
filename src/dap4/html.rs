//! The `.dmr.html` request form and the `.dsr` dataset services response.

use crate::catalog::Dataset;
use crate::http::html_escape;
use crate::model::{AttrValue, Variable};

use super::dmr::{escape_attr, type_name};

fn shape_text(v: &Variable) -> String {
    v.dims
        .iter()
        .map(|d| format!("[{} = {}]", html_escape(&d.path), d.len))
        .collect()
}

fn attr_text(v: &AttrValue) -> String {
    html_escape(&v.to_strings().join(", "))
}

/// A form to choose variables and subsets and fetch the `.dap` or `.dmr`.
pub fn form(ds: &Dataset, base: &str) -> String {
    let mut rows = String::new();
    for v in ds.meta.variables() {
        let attrs: String = v
            .attributes
            .iter()
            .map(|a| {
                format!(
                    "<br><small>{}: {}</small>",
                    html_escape(&a.name),
                    attr_text(&a.value)
                )
            })
            .collect();
        let subset_hint: String = v
            .dims
            .iter()
            .map(|d| format!("[0:1:{}]", d.len.saturating_sub(1)))
            .collect();
        rows.push_str(&format!(
            "<tr><td><label><input type=\"checkbox\" class=\"var\" value=\"{path}\"> <b>{path}</b></label>{attrs}</td>\
             <td>{ty}</td><td>{shape}</td>\
             <td><input type=\"text\" class=\"subset\" data-var=\"{path}\" placeholder=\"{hint}\" size=\"24\"></td></tr>\n",
            path = html_escape(&v.path),
            ty = type_name(v.dtype),
            shape = shape_text(v),
            hint = html_escape(&subset_hint),
        ));
    }
    let globals: String = ds
        .meta
        .attributes()
        .iter()
        .map(|a| format!("<li>{}: {}</li>", html_escape(&a.name), attr_text(&a.value)))
        .collect();
    let content = format!(
        r#"<h1>DAP4 request form</h1>
<p><b>{title}</b> (<code>{id}</code>) &mdash; <a href="{base}.dmr.xml">DMR</a> &middot; <a href="{base}.dsr">services</a></p>
<ul>{globals}</ul>
<p>Tick variables and optionally give a subset per dimension as <code>[start:stride:stop]</code> (stop included). The URL below updates as you choose.</p>
<table><tr><th>variable</th><th>type</th><th>dimensions</th><th>subset</th></tr>
{rows}</table>
<p><label><input type="checkbox" id="checksum"> add CRC-32 checksums</label></p>
<p><code id="url"></code></p>
<p><button id="dap">Get data (.dap)</button> <button id="dmr">Get DMR</button></p>
<script>
const base = "{base_js}";
function ce() {{
  const parts = [];
  for (const box of document.querySelectorAll("input.var")) {{
    if (!box.checked) continue;
    const sub = document.querySelector(`input.subset[data-var="${{box.value}}"]`).value.trim();
    parts.push(box.value + sub);
  }}
  return parts.join(";");
}}
function url(suffix) {{
  const q = [];
  const c = ce();
  if (c) q.push("dap4.ce=" + encodeURIComponent(c));
  if (suffix === ".dap" && document.getElementById("checksum").checked) q.push("dap4.checksum=true");
  return base + suffix + (q.length ? "?" + q.join("&") : "");
}}
function show() {{ document.getElementById("url").textContent = url(".dap"); }}
document.addEventListener("input", show);
document.getElementById("dap").onclick = () => {{ location.href = url(".dap"); }};
document.getElementById("dmr").onclick = () => {{ location.href = url(".dmr.xml"); }};
show();
</script>
"#,
        title = html_escape(&ds.title),
        id = html_escape(&ds.id),
        base = html_escape(base),
        base_js = base
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('<', "\\u003c"),
    );
    crate::site_page::document(
        &format!("DAP4 request form: {}", ds.title),
        "<style>table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em;vertical-align:top;text-align:left}code{word-break:break-all}</style>",
        &content,
        "",
    )
}

/// The Dataset Services Response: where each DAP4 representation of the dataset is.
pub fn dsr(id: &str, base: &str) -> String {
    let service = |title: &str, role: &str, suffix: &str, ty: &str| {
        format!(
            "  <Service title=\"{title}\" role=\"http://services.opendap.org/dap4/{role}\">\n    <link type=\"{ty}\" href=\"{}{suffix}\"/>\n  </Service>\n",
            escape_attr(base)
        )
    };
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DatasetServices xmlns=\"http://xml.opendap.org/ns/DAP/4.0/dataset-services#\" xml:base=\"{}\" name=\"{}\">\n  <DapVersion>4.0</DapVersion>\n  <ServerSoftwareVersion>datagate/{}</ServerSoftwareVersion>\n",
        escape_attr(base),
        escape_attr(id),
        env!("CARGO_PKG_VERSION")
    );
    out.push_str(&service(
        "DAP4 Dataset Services",
        "dataset-services",
        ".dsr",
        "application/vnd.opendap.dap4.dataset-services+xml",
    ));
    out.push_str(&service(
        "DAP4 Dataset Metadata",
        "dataset-metadata",
        ".dmr.xml",
        "application/vnd.opendap.dap4.dataset-metadata+xml",
    ));
    out.push_str(&service(
        "DAP4 Data",
        "data",
        ".dap",
        "application/vnd.opendap.dap4.data",
    ));
    out.push_str(&service(
        "DAP4 Request Form",
        "dataset-metadata",
        ".dmr.html",
        "text/html",
    ));
    out.push_str("</DatasetServices>\n");
    out
}
