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

/// What every page's layout shows beside its content: the public base URL every link
/// starts with (the server may sit below a path behind a proxy), and the viewer.
pub struct Site<'a> {
    pub base: &'a str,
    /// Sign-in is configured and the viewer is anonymous: the layout offers it.
    pub sign_in: bool,
    /// The signed-in user's name.
    pub user: Option<String>,
}

impl<'a> Site<'a> {
    pub fn of(
        state: &crate::app::AppState,
        viewer: &crate::auth::Principal,
        base: &'a str,
    ) -> Self {
        let user = match viewer {
            crate::auth::Principal::User { name, .. } => Some(name.clone()),
            crate::auth::Principal::Anonymous => None,
        };
        Site {
            base,
            sign_in: state.access.enabled() && user.is_none(),
            user,
        }
    }
}

/// `template` rendered with `context`, as an HTML response in the site's layout.
pub fn render(
    status: StatusCode,
    site: &Site,
    template: &str,
    context: impl Serialize,
) -> Response {
    let context = minijinja::context! {
        base => site.base,
        sign_in => site.sign_in,
        user => site.user,
        ..minijinja::Value::from_serialize(context)
    };
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
pub fn error_page(status: StatusCode, site: &Site, message: &str) -> Response {
    render(
        status,
        site,
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
