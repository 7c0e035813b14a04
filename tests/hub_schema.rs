//! `schema/hub.graphql` is the hub subgraph's SDL as the code exports it.
//! Regenerate with `UPDATE_SCHEMAS=1 cargo test --test hub_schema`.

use std::path::Path;

#[test]
fn the_checked_in_hub_schema_equals_what_the_code_exports() {
    let exported = tellonce::hub::sdl();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/hub.graphql");
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &exported).expect("write schema/hub.graphql");
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == exported,
        "schema/hub.graphql is out of date: run UPDATE_SCHEMAS=1 cargo test --test hub_schema\n--- exported ---\n{exported}"
    );
}

#[test]
fn the_hub_schema_declares_its_query_fields() {
    let exported = tellonce::hub::sdl();
    assert!(exported.contains("hub: HubInfo!"), "{exported}");
    assert!(exported.contains("supergraphHash: String!"), "{exported}");
}
