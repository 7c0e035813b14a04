//! Composition of subgraph SDLs into a supergraph the planner accepts.

use tellonce::gateway::compose::{compose_subgraphs, ComposeError, SubgraphSource};

const LINK: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@shareable"])"#;

fn source(name: &str, body: &str) -> SubgraphSource {
    SubgraphSource {
        name: name.into(),
        url: format!("http://127.0.0.1:1/{name}"),
        sdl: format!("{LINK}\n{body}"),
    }
}

fn people_and_taxes() -> Vec<SubgraphSource> {
    vec![
        source(
            "people",
            r#"scalar Date
            type Query { person(nino: String!): Person  search(term: String!): [SearchResult!]! }
            type Person @key(fields: "nino") { nino: String! name: String! born: Date }
            type Company @key(fields: "number") { number: String! }
            union SearchResult = Person | Company"#,
        ),
        source(
            "taxes",
            r#"type Query { taxYear: Int! }
            type Person @key(fields: "nino") { nino: String! utr: String }"#,
        ),
    ]
}

#[test]
fn root_types_unions_and_scalars_get_join_types_for_every_graph_that_serves_them() {
    let composition = compose_subgraphs(&people_and_taxes()).expect("composes");
    let sdl = composition.supergraph_sdl;
    let query = sdl
        .split("\ntype Query")
        .nth(1)
        .and_then(|rest| rest.split('{').next())
        .expect("a Query type");
    assert!(query.contains("@join__type(graph: PEOPLE)"), "{query}");
    assert!(query.contains("@join__type(graph: TAXES)"), "{query}");
    let union = sdl
        .split("\nunion SearchResult")
        .nth(1)
        .and_then(|rest| rest.split('=').next())
        .expect("the union");
    assert!(union.contains("@join__type(graph: PEOPLE)"), "{union}");
    assert!(!union.contains("graph: TAXES"), "{union}");
    let scalar = sdl
        .split("\nscalar Date")
        .nth(1)
        .and_then(|rest| rest.split('\n').next())
        .expect("the scalar");
    assert!(scalar.contains("@join__type(graph: PEOPLE)"), "{scalar}");
}

#[test]
fn a_subgraph_that_does_not_parse_is_named_with_its_line() {
    let mut sources = people_and_taxes();
    sources[1].sdl = format!("{LINK}\ntype Query {{ taxYear: Int! \n");
    let error = compose_subgraphs(&sources).expect_err("must not compose");
    let message = error.to_string();
    assert!(matches!(error, ComposeError::SubgraphSyntax { .. }));
    assert!(message.contains("subgraph taxes"), "{message}");
    assert!(
        message.contains('2') || message.contains('3'),
        "names a line: {message}"
    );
}

#[test]
fn conflicting_field_types_are_reported_with_the_type_and_field() {
    let mut sources = people_and_taxes();
    sources[1] = source(
        "taxes",
        r#"type Query { taxYear: Int! }
        type Person @key(fields: "nino") { nino: String! name: Int! }"#,
    );
    let error = compose_subgraphs(&sources).expect_err("must not compose");
    let ComposeError::Composition { errors } = &error else {
        panic!("expected composition errors, got {error}");
    };
    assert!(!errors.is_empty());
    let all = errors.join("\n");
    assert!(all.contains("Person") && all.contains("name"), "{all}");
}

#[test]
fn the_supergraph_declares_link_and_repeatable_join_directives_as_the_specs_do() {
    let sdl = compose_subgraphs(&people_and_taxes())
        .expect("composes")
        .supergraph_sdl;
    for directive in [
        "join__type",
        "join__field",
        "join__implements",
        "join__unionMember",
    ] {
        let line = sdl
            .lines()
            .find(|l| l.starts_with(&format!("directive @{directive}(")))
            .unwrap_or_else(|| panic!("@{directive} is declared:\n{sdl}"));
        assert!(line.contains(" repeatable on "), "{line}");
    }
    assert!(sdl.contains("directive @link("), "{sdl}");
    assert!(sdl.contains("scalar link__Import"), "{sdl}");
    assert!(sdl.contains("enum link__Purpose"), "{sdl}");
    tellonce::gateway::Supergraph::parse(&sdl).expect("the planner still accepts it");
}
