//! The one layout of every HTML page the server writes: the web interface's pages
//! (templates that extend `layout.html`) and the protocols' own pages (DAP2 and DAP4
//! request forms, EDR `f=html`), which put their content inside it with `document`.
//! One minijinja environment configured once: HTML auto-escaping as the rest of the
//! server escapes, the static files' prefix and the version as globals.

use std::sync::LazyLock;

use minijinja::Environment;

/// The URL prefix of the static files (a new version, new URLs).
pub const STATIC_PREFIX: &str = concat!("/static/", env!("CARGO_PKG_VERSION"));

const LAYOUT: &str = include_str!("../web/templates/layout.html");

/// A page whose head additions, content and scripts are HTML made by the caller.
const DOCUMENT: &str = r#"{% extends "layout.html" %}
{% block head %}{{ head|safe }}{% endblock %}
{% block content %}{{ content|safe }}{% endblock %}
{% block scripts %}{{ scripts|safe }}{% endblock %}"#;

/// An environment holding the layout and `templates` (name, source).
pub fn environment(templates: &[(&'static str, &'static str)]) -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in [("layout.html", LAYOUT), ("document.html", DOCUMENT)]
        .iter()
        .chain(templates)
    {
        // Templates are part of the binary: a syntax error is a build defect, which
        // the unit tests catch.
        if let Err(e) = env.add_template(name, source) {
            tracing::error!("template {name}: {e}");
        }
    }
    // Strings escaped as everywhere else in the server (minijinja's default also
    // escapes `/`, which makes URLs in pages differ from the same URLs elsewhere).
    env.set_formatter(|out, state, value| {
        if state.auto_escape() == minijinja::AutoEscape::Html
            && !value.is_safe()
            && let Some(s) = value.as_str()
        {
            return out
                .write_str(&crate::http::html_escape(s))
                .map_err(minijinja::Error::from);
        }
        minijinja::escape_formatter(out, state, value)
    });
    env.add_global("static", STATIC_PREFIX);
    env.add_global("version", env!("CARGO_PKG_VERSION"));
    env
}

static PLAIN: LazyLock<Environment<'static>> = LazyLock::new(|| environment(&[]));

/// A whole page in the layout: `title` (text), and `head`, `content` and `scripts`
/// (HTML, escaped by the caller). Links of the layout are root-relative (the
/// protocols' pages do not know the public base URL's path).
pub fn document(title: &str, head: &str, content: &str, scripts: &str) -> String {
    let rendered = PLAIN
        .get_template("document.html")
        .and_then(|t| t.render(minijinja::context! { base => "", title, head, content, scripts }));
    rendered.unwrap_or_else(|e| {
        tracing::error!("rendering a page: {e:#}");
        format!("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head><body>{content}{scripts}</body></html>", crate::http::html_escape(title))
    })
}

/// A page in the layout cut where its content goes, for pages written as they stream
/// (an EDR table): the text before the content and the text after it.
pub fn document_around(title: &str, head: &str) -> (String, String) {
    const MARK: &str = "\u{0}datagate-content\u{0}";
    let page = document(title, head, MARK, "");
    match page.split_once(MARK) {
        Some((before, after)) => (before.to_string(), after.to_string()),
        None => (page, String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_has_the_layout_and_its_content() {
        let page = document(
            "A <title>",
            "<style>x{}</style>",
            "<h1>Hi</h1>",
            "<script>1</script>",
        );
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<title>A &lt;title&gt; · datagate</title>"));
        assert!(page.contains(&format!("{STATIC_PREFIX}/datagate.css")));
        assert!(page.contains("<header class=\"site\">"));
        assert!(page.contains("<h1>Hi</h1>") && page.contains("<script>1</script>"));
        let (before, after) = document_around("T", "");
        assert!(before.ends_with("<main id=\"main\">\n") && after.contains("</main>"));
        assert!(after.trim_end().ends_with("</html>"));
    }
}
