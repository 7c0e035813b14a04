//! Request errors (parse, validation, operation choice, variables) and
//! introspection answered from the public API schema.

mod gateway_support;

use gateway_support::{as_json, codes, data, Shop};
use serde_json::json;
use tellonce::gateway::{GraphQLRequest, OperationKind, Supergraph};

#[tokio::test]
async fn parse_error_is_a_request_error_with_a_location() {
    let shop = Shop::start().await;
    let response = shop.run("{ me { name }").await;
    assert!(response.is_request_error());
    assert_eq!(codes(&response), vec!["GRAPHQL_PARSE_FAILED"]);
    let location = &as_json(&response)["errors"][0]["locations"][0];
    assert_eq!(location["line"], json!(1), "{location}");
}

#[tokio::test]
async fn missing_query_is_refused() {
    let shop = Shop::start().await;
    let response = shop.gateway.execute(GraphQLRequest::default()).await;
    assert!(response.is_request_error());
    assert_eq!(codes(&response), vec!["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn invalid_field_and_inaccessible_field_fail_validation() {
    let shop = Shop::start().await;
    for query in [
        "{ me { nope } }",
        r#"{ product(upc: "p1") { internalCode } }"#,
    ] {
        let response = shop.run(query).await;
        assert!(response.is_request_error(), "{query}");
        assert_eq!(
            codes(&response),
            vec!["GRAPHQL_VALIDATION_FAILED"],
            "{query}"
        );
        assert!(!as_json(&response)["errors"][0]["locations"].is_null());
    }
}

#[tokio::test]
async fn operation_choice() {
    let shop = Shop::start().await;
    let doc = "query A { me { name } } query B { users { id } }";
    let response = shop.run(doc).await;
    assert!(response.is_request_error());
    assert_eq!(codes(&response), vec!["GRAPHQL_VALIDATION_FAILED"]);
    let response = shop.run_with(doc, None, Some("C")).await;
    assert!(response.is_request_error());
    assert_eq!(codes(&response), vec!["BAD_USER_INPUT"]);
    let response = shop.run_with(doc, None, Some("B")).await;
    assert_eq!(
        data(&response),
        json!({"users": [{"id": "u1"}, {"id": "u2"}]})
    );
}

#[tokio::test]
async fn variables_of_the_wrong_type_are_refused_by_name() {
    let shop = Shop::start().await;
    let query = "query P($upc: String!, $n: Int) { product(upc: $upc) { upc } topProducts(first: $n) { upc } }";
    let response = shop.run_with(query, Some(json!({"upc": 7})), None).await;
    assert!(response.is_request_error());
    assert_eq!(codes(&response), vec!["BAD_USER_INPUT"]);
    assert!(response.errors[0].message.contains("$upc"));
    let response = shop.run_with(query, Some(json!({})), None).await;
    assert_eq!(codes(&response), vec!["BAD_USER_INPUT"]);
    let response = shop
        .run_with(query, Some(json!({"upc": "p1", "n": "two"})), None)
        .await;
    assert!(response.errors[0].message.contains("$n"));
    let response = shop
        .run_with(query, Some(json!({"upc": "p1", "n": 1})), None)
        .await;
    assert_eq!(
        data(&response),
        json!({"product": {"upc": "p1"}, "topProducts": [{"upc": "p1"}]})
    );
}

#[tokio::test]
async fn operation_kind_for_the_http_layer() {
    let shop = Shop::start().await;
    let request = GraphQLRequest {
        query: Some("mutation M { x } query Q { me { id } }".into()),
        operation_name: Some("M".into()),
        ..GraphQLRequest::default()
    };
    assert_eq!(
        shop.gateway
            .operation_kind(&request, &Default::default())
            .unwrap(),
        OperationKind::Mutation
    );
    let request = GraphQLRequest {
        query: Some("{ me { id } }".into()),
        ..GraphQLRequest::default()
    };
    assert_eq!(
        shop.gateway
            .operation_kind(&request, &Default::default())
            .unwrap(),
        OperationKind::Query
    );
}

#[tokio::test]
async fn introspection_hides_federation_internals_and_inaccessible_fields() {
    let shop = Shop::start().await;
    let response = shop
        .run(
            r#"{
              __schema { queryType { name } types { name } directives { name } }
              __type(name: "Product") { kind name fields { name type { kind ofType { name } } } }
              media { __typename }
            }"#,
        )
        .await;
    assert!(response.errors.is_empty(), "{:?}", as_json(&response));
    let data = data(&response);
    assert_eq!(data["__schema"]["queryType"]["name"], json!("Query"));
    let types: Vec<String> = data["__schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert!(types.contains(&"Product".to_string()));
    assert!(types.contains(&"__Schema".to_string()));
    assert!(
        !types
            .iter()
            .any(|t| t.starts_with("join__") || t.starts_with("link__")),
        "{types:?}"
    );
    let directives = data["__schema"]["directives"].to_string();
    assert!(
        !directives.contains("join__") && !directives.contains("\"link\""),
        "{directives}"
    );
    let fields: Vec<&str> = data["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"shippingEstimate"));
    assert!(!fields.contains(&"internalCode"));
    assert_eq!(
        data["__type"]["fields"][0]["type"],
        json!({"kind": "NON_NULL", "ofType": {"name": "String"}})
    );
    assert_eq!(
        data["media"],
        json!([{"__typename": "Book"}, {"__typename": "Movie"}])
    );
}

#[test]
fn supergraph_parse_reports_problems_and_lists_subgraphs() {
    let err = Supergraph::parse("type Query {").unwrap_err();
    assert!(err.to_string().contains("does not parse"), "{err}");
    let err = Supergraph::parse("type Query { a: Int }").unwrap_err();
    assert!(err.to_string().contains("join__Graph"), "{err}");
    let sdl = gateway_support::SHOP_SUPERGRAPH;
    let supergraph = Supergraph::parse(sdl).unwrap();
    let names: Vec<_> = supergraph
        .subgraphs()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, vec!["accounts", "inventory", "products", "reviews"]);
    assert_eq!(supergraph.subgraphs()[0].url, "{{accounts}}");
    assert_eq!(supergraph.hash().len(), 64);
    assert_eq!(supergraph.hash(), Supergraph::parse(sdl).unwrap().hash());
}

#[tokio::test]
async fn gateway_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let shop = Shop::start().await;
    assert_send_sync(&shop.gateway);
    let gateway = std::sync::Arc::new(shop.gateway);
    let shared = gateway.clone();
    let future = async move { shared.execute(GraphQLRequest::default()).await };
    let response = tokio::spawn(future).await.unwrap();
    assert!(response.is_request_error());
}
