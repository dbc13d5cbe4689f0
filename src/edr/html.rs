//! HTML renderings of the metadata documents for browsers: the links as anchors, the
//! collections and parameters as tables, the rest of the document as indented JSON.

use serde_json::Value;

use crate::http::html_escape;

fn links(doc: &Value) -> String {
    let mut s = String::new();
    if let Some(ls) = doc.get("links").and_then(Value::as_array) {
        s.push_str("<h2>Links</h2><ul>");
        for l in ls {
            let href = l.get("href").and_then(Value::as_str).unwrap_or("");
            let rel = l.get("rel").and_then(Value::as_str).unwrap_or("");
            let title = l.get("title").and_then(Value::as_str).unwrap_or(href);
            s.push_str(&format!(
                "<li><a href=\"{}\">{}</a> ({})</li>",
                html_escape(href),
                html_escape(title),
                html_escape(rel)
            ));
        }
        s.push_str("</ul>");
    }
    s
}

fn params_table(doc: &Value) -> String {
    let mut s = String::new();
    if let Some(ps) = doc.get("parameter_names").and_then(Value::as_object) {
        s.push_str("<h2>Parameters</h2><table border=\"1\"><tr><th>name</th><th>label</th><th>unit</th></tr>");
        for (name, p) in ps {
            let label = p.get("label").and_then(Value::as_str).unwrap_or("");
            let unit = p
                .pointer("/unit/label")
                .and_then(Value::as_str)
                .unwrap_or("");
            s.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                html_escape(name),
                html_escape(label),
                html_escape(unit)
            ));
        }
        s.push_str("</table>");
    }
    s
}

fn collections_table(doc: &Value) -> String {
    let mut s = String::new();
    if let Some(cs) = doc.get("collections").and_then(Value::as_array) {
        s.push_str("<h2>Collections</h2><table border=\"1\"><tr><th>id</th><th>title</th><th>parameters</th></tr>");
        for c in cs {
            let id = c.get("id").and_then(Value::as_str).unwrap_or("");
            let title = c.get("title").and_then(Value::as_str).unwrap_or("");
            let href = c
                .get("links")
                .and_then(Value::as_array)
                .and_then(|l| l.first())
                .and_then(|l| l.get("href"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let params: Vec<&str> = c
                .get("parameter_names")
                .and_then(Value::as_object)
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            s.push_str(&format!(
                "<tr><td><a href=\"{}?f=html\">{}</a></td><td>{}</td><td>{}</td></tr>",
                html_escape(href),
                html_escape(id),
                html_escape(title),
                html_escape(&params.join(", "))
            ));
        }
        s.push_str("</table>");
    }
    s
}

/// A page for a metadata document.
pub fn page(title: &str, doc: &Value) -> String {
    let pretty = serde_json::to_string_pretty(doc).unwrap_or_default();
    let content = format!(
        "<h1>{t}</h1>{c}{p}{l}<h2>Document</h2><pre>{j}</pre>",
        t = html_escape(title),
        c = collections_table(doc),
        p = params_table(doc),
        l = links(doc),
        j = html_escape(&pretty)
    );
    crate::site_page::document(title, "", &content, "")
}
