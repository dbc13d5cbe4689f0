//! The page templates (minijinja, embedded in the binary; HTML auto-escaped): one
//! layout and one stylesheet for every page.

use std::sync::LazyLock;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

use super::assets::PREFIX;

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        (
            "layout.html",
            include_str!("../../web/templates/layout.html"),
        ),
        (
            "catalog.html",
            include_str!("../../web/templates/catalog.html"),
        ),
        (
            "dataset.html",
            include_str!("../../web/templates/dataset.html"),
        ),
        ("error.html", include_str!("../../web/templates/error.html")),
    ] {
        // Templates are part of the binary: a syntax error is a build defect, which
        // the unit test below catches.
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
    env.add_global("static", PREFIX);
    env.add_global("version", env!("CARGO_PKG_VERSION"));
    env
});

/// `template` rendered with `context`, as an HTML response; `base` is the public base
/// URL every link starts with (the server may sit below a path behind a proxy).
pub fn render(status: StatusCode, base: &str, template: &str, context: impl Serialize) -> Response {
    let context = minijinja::context! { base, ..minijinja::Value::from_serialize(context) };
    let rendered = TEMPLATES
        .get_template(template)
        .and_then(|t| t.render(context));
    match rendered {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!("rendering {template}: {e:#}");
            crate::http::json_error(StatusCode::INTERNAL_SERVER_ERROR, "page rendering failed")
        }
    }
}

/// An error page in the site's layout.
pub fn error_page(status: StatusCode, base: &str, message: &str) -> Response {
    render(
        status,
        base,
        "error.html",
        minijinja::context! { title => status.canonical_reason().unwrap_or("Error"), status => status.as_u16(), message },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_compile() {
        for name in ["layout.html", "catalog.html", "dataset.html", "error.html"] {
            super::TEMPLATES.get_template(name).unwrap();
        }
    }

    #[test]
    fn text_is_escaped() {
        let r = super::TEMPLATES
            .get_template("error.html")
            .unwrap()
            .render(minijinja::context! { title => "x", status => 400, message => "<script>" })
            .unwrap();
        assert!(r.contains("&lt;script&gt;") && !r.contains("<script>alert"));
    }
}
