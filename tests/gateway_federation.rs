//! Federated execution through the gateway against real subgraphs: entity
//! joins across subgraphs, @requires, @provides, abstract types, aliases,
//! fragments, variables, @skip/@include, null propagation and error paths.

mod gateway_support;

use gateway_support::{as_json, data, Shop};
use serde_json::json;

#[tokio::test]
async fn joins_entities_across_three_subgraphs() {
    let shop = Shop::start().await;
    let response = shop
        .run("{ topProducts(first: 2) { upc name price inStock reviews { id author { name } } } }")
        .await;
    assert_eq!(response.errors.len(), 1, "{:?}", as_json(&response));
    assert_eq!(
        data(&response),
        json!({"topProducts": [
            {"upc": "p1", "name": "Table", "price": 899, "inStock": true,
             "reviews": [{"id": "r1", "author": {"name": "Ada Lovelace"}},
                         {"id": "r2", "author": {"name": "Alan Turing"}}]},
            {"upc": "p2", "name": "Couch", "price": 1299, "inStock": false,
             "reviews": [{"id": "r3", "author": null}]}
        ]})
    );
}

#[tokio::test]
async fn deduplicates_entity_representations() {
    let shop = Shop::start().await;
    let response = shop.run("{ reviews { author { name } } }").await;
    let names: Vec<_> = data(&response)["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["author"].clone())
        .collect();
    assert_eq!(names[0], json!({"name": "Ada Lovelace"}));
    assert_eq!(names[3], json!({"name": "Ada Lovelace"}));
    let bodies = shop.recorders["accounts"].bodies();
    assert_eq!(bodies.len(), 1);
    let reps = bodies[0]["variables"]["representations"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        reps.len(),
        3,
        "u1 twice in the data, once on the wire: {reps:?}"
    );
}

#[tokio::test]
async fn requires_sends_the_required_fields_in_representations() {
    let shop = Shop::start().await;
    let response = shop.run("{ topProducts { upc shippingEstimate } }").await;
    assert!(response.errors.is_empty(), "{:?}", as_json(&response));
    assert_eq!(
        data(&response),
        json!({"topProducts": [
            {"upc": "p1", "shippingEstimate": 50},
            {"upc": "p2", "shippingEstimate": 0},
            {"upc": "p3", "shippingEstimate": 25}
        ]})
    );
    let bodies = shop.recorders["inventory"].bodies();
    let first = &bodies[0]["variables"]["representations"][0];
    assert_eq!(first["price"], json!(899));
    assert_eq!(first["weight"], json!(100));
}

#[tokio::test]
async fn provides_avoids_a_call_to_the_owning_subgraph() {
    let shop = Shop::start().await;
    let response = shop.run("{ reviews { id author { username } } }").await;
    assert!(response.errors.is_empty(), "{:?}", as_json(&response));
    assert_eq!(
        data(&response)["reviews"][0]["author"]["username"],
        json!("ada")
    );
    assert_eq!(shop.recorders["accounts"].count(), 0);
}

#[tokio::test]
async fn interfaces_and_unions_resolve_by_typename() {
    let shop = Shop::start().await;
    let response = shop
        .run(
            r#"{
              media { __typename id title ... on Book { pages } ... on Movie { minutes } }
              search(term: "a") {
                __typename
                ... on Media { title }
                ... on Product { upc }
                ... on Movie { minutes }
              }
            }"#,
        )
        .await;
    assert!(response.errors.is_empty(), "{:?}", as_json(&response));
    assert_eq!(
        data(&response),
        json!({
            "media": [
                {"__typename": "Book", "id": "b1", "title": "Dune", "pages": 412},
                {"__typename": "Movie", "id": "m1", "title": "Alien", "minutes": 117}
            ],
            "search": [
                {"__typename": "Book", "title": "Dune"},
                {"__typename": "Movie", "title": "Alien", "minutes": 117},
                {"__typename": "Product", "upc": "p1"}
            ]
        })
    );
}

#[tokio::test]
async fn aliases_fragments_variables_and_conditions() {
    let shop = Shop::start().await;
    let query = r#"
      query Shop($upc: String!, $withStock: Boolean!, $skipName: Boolean = false) {
        first: product(upc: $upc) { ...Basics stock: inStock @include(if: $withStock) }
        second: product(upc: "p3") { ...Basics cost: price }
      }
      fragment Basics on Product { upc label: name @skip(if: $skipName) }
    "#;
    let response = shop
        .run_with(query, Some(json!({"upc": "p2", "withStock": true})), None)
        .await;
    assert!(response.errors.is_empty(), "{:?}", as_json(&response));
    assert_eq!(
        data(&response),
        json!({
            "first": {"upc": "p2", "label": "Couch", "stock": false},
            "second": {"upc": "p3", "label": "Chair", "cost": 54}
        })
    );
    let response = shop
        .run_with(
            query,
            Some(json!({"upc": "p1", "withStock": false, "skipName": true})),
            Some("Shop"),
        )
        .await;
    assert_eq!(
        data(&response),
        json!({"first": {"upc": "p1"}, "second": {"upc": "p3", "cost": 54}})
    );
    let keys: Vec<_> = data(&response)["second"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, vec!["upc", "cost"], "request order is kept");
}

#[tokio::test]
async fn null_in_non_null_field_bubbles_to_nearest_nullable_parent() {
    let shop = Shop::start().await;
    let response = shop
        .run(r#"{ product(upc: "p2") { reviews { id author { id name } } } }"#)
        .await;
    assert_eq!(
        data(&response),
        json!({"product": {"reviews": [{"id": "r3", "author": null}]}})
    );
    assert_eq!(response.errors.len(), 1, "{:?}", as_json(&response));
    assert_eq!(
        as_json(&response)["errors"][0]["path"],
        json!(["product", "reviews", 0, "author", "name"])
    );
}

#[tokio::test]
async fn subgraph_errors_keep_paths_into_the_client_response() {
    let shop = Shop::start().await;
    let response = shop
        .run(r#"{ first: product(upc: "p3") { upc reviews { id body } } }"#)
        .await;
    assert_eq!(
        data(&response),
        json!({"first": {"upc": "p3", "reviews": [{"id": "r4", "body": null}]}})
    );
    let errors = as_json(&response)["errors"].clone();
    assert_eq!(errors.as_array().unwrap().len(), 1, "{errors}");
    assert_eq!(errors[0]["path"], json!(["first", "reviews", 0, "body"]));
    assert_eq!(errors[0]["message"], json!("review body is unreadable"));
    assert_eq!(errors[0]["extensions"]["serviceName"], json!("reviews"));
}

#[tokio::test]
async fn typename_and_root_typename() {
    let shop = Shop::start().await;
    let response = shop
        .run("{ __typename me { __typename t: __typename name } }")
        .await;
    assert!(response.errors.is_empty(), "{:?}", as_json(&response));
    assert_eq!(
        data(&response),
        json!({"__typename": "Query", "me": {"__typename": "User", "t": "User", "name": "Ada Lovelace"}})
    );
}

#[tokio::test]
async fn equal_operations_share_one_cached_plan() {
    let shop = Shop::start().await;
    shop.run("{ me { name } }").await;
    shop.run("{ me { name } }").await;
    shop.run("query { me {   name } }").await;
    assert_eq!(shop.gateway.supergraph().cached_plans(), 1);
}
