//! The GraphiQL page served to browsers that open `/graphql`.

use actix_web::HttpResponse;

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>tellonce — GraphiQL</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css">
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
  <script>
    const headers = /*HEADERS*/"";
    const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
    ReactDOM.createRoot(document.getElementById('graphiql'))
      .render(React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true, headers: headers || undefined, shouldPersistHeaders: true }));
  </script>
</body>
</html>
"#;

/// The page, with `headers` (JSON text) preloaded in its headers editor.
pub fn page(headers: Option<&str>) -> HttpResponse {
    let body = match headers {
        // A JSON string literal is valid JavaScript; `<` is escaped so the
        // text cannot close the script element.
        Some(headers) => PAGE.replace(
            "/*HEADERS*/\"\"",
            &serde_json::to_string(headers)
                .unwrap_or_else(|_| "\"\"".into())
                .replace('<', "\\u003c"),
        ),
        None => PAGE.to_string(),
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}
