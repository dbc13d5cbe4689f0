//! The page templates (minijinja, embedded in the binary; HTML auto-escaped), in the
//! layout every HTML page of the server shares (`site_page`).

use std::sync::LazyLock;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    crate::site_page::environment(&[
        (
            "catalog.html",
            include_str!("../../web/templates/catalog.html"),
        ),
        (
            "dataset.html",
            include_str!("../../web/templates/dataset.html"),
        ),
        ("error.html", include_str!("../../web/templates/error.html")),
    ])
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
