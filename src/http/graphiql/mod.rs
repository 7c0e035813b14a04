//! The GraphiQL page served to browsers that open `/graphql`, and every file
//! it loads, from the binary itself (`assets/graphiql/`, GraphiQL's and
//! React's published builds): no CDN, so it works on a closed network and
//! under a content security policy that allows only the hub.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// The page's settings: where to send operations, the operation it opens
/// with and the request headers it starts with.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct GraphiqlSettings {
    pub endpoint: String,
    pub query: Option<String>,
    /// JSON text, as GraphiQL's headers editor shows it.
    pub headers: Option<String>,
}

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>tellonce — GraphiQL</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="/graphiql/graphiql.min.css">
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script id="graphiql-settings" type="application/json">/*SETTINGS*/</script>
  <script src="/graphiql/react.production.min.js"></script>
  <script src="/graphiql/react-dom.production.min.js"></script>
  <script src="/graphiql/graphiql.min.js"></script>
  <script src="/graphiql/start.js"></script>
</body>
</html>
"#;

/// Only the hub: scripts and connections to it alone. GraphiQL sets inline
/// styles and its fonts are data URLs.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The page, with its settings.
pub fn page(settings: &GraphiqlSettings) -> HttpResponse {
    // JSON inside a script element: `<` is escaped so no text can end it.
    let json = serde_json::to_string(settings)
        .unwrap_or_else(|_| "{}".into())
        .replace('<', "\\u003c");
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(PAGE.replace("/*SETTINGS*/", &json))
}

/// The files the page loads, by name.
const ASSETS: [(&str, &str, &[u8]); 5] = [
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "start.js",
        "text/javascript; charset=utf-8",
        include_bytes!("start.js"),
    ),
];

/// `GET /graphiql/{file}`.
pub async fn asset(file: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|(name, _, _)| *name == file.as_str()) {
        Some((_, content_type, body)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(*body),
        None => HttpResponse::NotFound().body("no such GraphiQL file\n"),
    }
}
