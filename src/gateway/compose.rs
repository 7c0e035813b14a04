//! Composition of registered subgraphs into one supergraph SDL with
//! `graphql-composition`, plus the join directives the planner needs that the
//! composer's rendering leaves out.
//!
//! `graphql-composition` renders no `@join__type` on root operation types,
//! unions and custom scalars. The planner builds its entry points from
//! `@join__type`, so without them every query fails with "No paths found". We
//! add `@join__type(graph: G)` for every graph that the root fields'
//! `@join__field`, the unions' `@join__unionMember` and the fields using a
//! scalar name; with that, plans equal those from an Apollo-composed supergraph.
//!
//! Its rendering also declares the join directives without `repeatable` and
//! leaves `@link` undeclared, which other routers (Apollo Gateway, Apollo
//! Router) refuse; we declare them as the join and link specifications do, so
//! a supergraph `tellonce compose` writes can be served by any of them.

use std::collections::{BTreeMap, BTreeSet};

use graphql_tools::parser::schema::{
    parse_schema, Definition, Directive, Document, Field, ParseError, TypeDefinition,
};
use graphql_tools::parser::Pos;

type Value = graphql_tools::parser::schema::Value<'static, String>;

/// One subgraph to compose: its name, routing URL and SDL.
#[derive(Debug, Clone)]
pub struct SubgraphSource {
    pub name: String,
    pub url: String,
    pub sdl: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("subgraph {subgraph}: its SDL does not parse:\n{report}")]
    SubgraphSyntax { subgraph: String, report: String },
    #[error("composition failed with {} error(s):\n{}", .errors.len(), .errors.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Composition { errors: Vec<String> },
    #[error("the composed supergraph could not be rendered: {0}")]
    Render(String),
}

/// The composed supergraph SDL and the composer's warnings.
#[derive(Debug, Clone)]
pub struct Composition {
    pub supergraph_sdl: String,
    pub warnings: Vec<String>,
}

/// Composes `sources` into an Apollo Federation v2 supergraph SDL that the planner accepts.
pub fn compose_subgraphs(sources: &[SubgraphSource]) -> Result<Composition, ComposeError> {
    let mut subgraphs = graphql_composition::Subgraphs::default();
    for source in sources {
        subgraphs
            .ingest_str(&source.sdl, &source.name, Some(&source.url))
            .map_err(|error| ComposeError::SubgraphSyntax {
                subgraph: source.name.clone(),
                report: format!("{error:#}"),
            })?;
    }
    let result = graphql_composition::compose(&mut subgraphs);
    let warnings: Vec<String> = result
        .diagnostics()
        .iter_warnings()
        .map(str::to_owned)
        .collect();
    let graph = result
        .into_result()
        .map_err(|diagnostics| ComposeError::Composition {
            errors: diagnostics.iter_errors().map(str::to_owned).collect(),
        })?;
    let rendered = graphql_composition::render_federated_sdl(&graph)
        .map_err(|error| ComposeError::Render(error.to_string()))?;
    let supergraph_sdl = add_missing_join_types(&rendered)
        .map_err(|error| ComposeError::Render(error.to_string()))?;
    Ok(Composition {
        supergraph_sdl,
        warnings,
    })
}

/// Adds the `@join__type` directives the planner needs on root types, unions
/// and custom scalars of a rendered supergraph, and declares the link and
/// join specifications' directives as those specifications do.
pub fn add_missing_join_types(supergraph_sdl: &str) -> Result<String, ParseError> {
    let mut document: Document<'static, String> =
        parse_schema::<String>(supergraph_sdl)?.into_static();
    declare_specs(&mut document)?;
    let roots = root_type_names(&document);
    let scalar_users = scalar_graphs(&document);

    for definition in &mut document.definitions {
        let Definition::TypeDefinition(type_definition) = definition else {
            continue;
        };
        match type_definition {
            TypeDefinition::Object(object) if roots.contains(&object.name) => {
                let graphs = field_graphs(&object.fields);
                add_join_types(&mut object.directives, &graphs);
            }
            TypeDefinition::Union(union) => {
                let graphs: BTreeSet<String> = union
                    .directives
                    .iter()
                    .filter(|d| d.name == "join__unionMember")
                    .filter_map(graph_argument)
                    .collect();
                add_join_types(&mut union.directives, &graphs);
            }
            TypeDefinition::Scalar(scalar) => {
                if let Some(graphs) = scalar_users.get(&scalar.name) {
                    add_join_types(&mut scalar.directives, graphs);
                }
            }
            _ => {}
        }
    }
    Ok(document.to_string())
}

/// The join directives that may appear more than once on one element.
const REPEATABLE_JOIN_DIRECTIVES: [&str; 5] = [
    "join__type",
    "join__field",
    "join__implements",
    "join__unionMember",
    "join__enumValue",
];

/// The link specification's own definitions, declared when missing.
const LINK_SPEC: &str = r#"
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
scalar link__Import
enum link__Purpose {
  "`SECURITY` features provide metadata necessary to securely resolve fields."
  SECURITY
  "`EXECUTION` features provide metadata necessary for operation execution."
  EXECUTION
}
"#;

/// Marks the join directives `repeatable` and declares `@link` and its types.
fn declare_specs(document: &mut Document<'static, String>) -> Result<(), ParseError> {
    let mut declared = BTreeSet::new();
    for definition in &mut document.definitions {
        match definition {
            Definition::DirectiveDefinition(directive) => {
                if REPEATABLE_JOIN_DIRECTIVES.contains(&directive.name.as_str()) {
                    directive.repeatable = true;
                }
                declared.insert(directive.name.clone());
            }
            Definition::TypeDefinition(TypeDefinition::Scalar(t)) => {
                declared.insert(t.name.clone());
            }
            Definition::TypeDefinition(TypeDefinition::Enum(t)) => {
                declared.insert(t.name.clone());
            }
            _ => {}
        }
    }
    let link_spec = parse_schema::<String>(LINK_SPEC)?.into_static();
    for definition in link_spec.definitions {
        let name = match &definition {
            Definition::DirectiveDefinition(d) => &d.name,
            Definition::TypeDefinition(TypeDefinition::Scalar(t)) => &t.name,
            Definition::TypeDefinition(TypeDefinition::Enum(t)) => &t.name,
            _ => continue,
        };
        if !declared.contains(name) {
            document.definitions.push(definition);
        }
    }
    Ok(())
}

fn root_type_names(document: &Document<'static, String>) -> BTreeSet<String> {
    let mut roots: BTreeSet<String> = ["Query", "Mutation", "Subscription"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    for definition in &document.definitions {
        if let Definition::SchemaDefinition(schema) = definition {
            roots.extend(
                [&schema.query, &schema.mutation, &schema.subscription]
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
    }
    roots
}

/// Graphs that serve any of `fields`, from their `@join__field(graph:)`.
fn field_graphs(fields: &[Field<'static, String>]) -> BTreeSet<String> {
    fields
        .iter()
        .flat_map(|field| field.directives.iter())
        .filter(|d| d.name == "join__field")
        .filter_map(graph_argument)
        .collect()
}

/// For each scalar name, the graphs whose types have fields or arguments of that scalar.
fn scalar_graphs(document: &Document<'static, String>) -> BTreeMap<String, BTreeSet<String>> {
    let scalars: BTreeSet<&String> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::TypeDefinition(TypeDefinition::Scalar(s)) => Some(&s.name),
            _ => None,
        })
        .collect();
    let mut users: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for definition in &document.definitions {
        let Definition::TypeDefinition(type_definition) = definition else {
            continue;
        };
        let (type_directives, fields): (&[Directive<'static, String>], &[Field<'static, String>]) =
            match type_definition {
                TypeDefinition::Object(o) => (&o.directives, &o.fields),
                TypeDefinition::Interface(i) => (&i.directives, &i.fields),
                TypeDefinition::InputObject(input) => {
                    let graphs: BTreeSet<String> = input
                        .directives
                        .iter()
                        .filter(|d| d.name == "join__type")
                        .filter_map(graph_argument)
                        .collect();
                    for value in &input.fields {
                        let name = named_type(&value.value_type);
                        if scalars.contains(&name.to_owned()) {
                            users
                                .entry(name.to_owned())
                                .or_default()
                                .extend(graphs.iter().cloned());
                        }
                    }
                    continue;
                }
                _ => continue,
            };
        let type_graphs: BTreeSet<String> = type_directives
            .iter()
            .filter(|d| d.name == "join__type")
            .filter_map(graph_argument)
            .collect();
        for field in fields {
            let own: BTreeSet<String> = field
                .directives
                .iter()
                .filter(|d| d.name == "join__field")
                .filter_map(graph_argument)
                .collect();
            let graphs = if own.is_empty() { &type_graphs } else { &own };
            let mut named: Vec<&str> = vec![named_type(&field.field_type)];
            named.extend(field.arguments.iter().map(|a| named_type(&a.value_type)));
            for name in named {
                if scalars.contains(&name.to_owned()) {
                    users
                        .entry(name.to_owned())
                        .or_default()
                        .extend(graphs.iter().cloned());
                }
            }
        }
    }
    users
}

fn named_type<'t>(ty: &'t graphql_tools::parser::schema::Type<'static, String>) -> &'t str {
    use graphql_tools::parser::schema::Type;
    match ty {
        Type::NamedType(name) => name,
        Type::ListType(inner) | Type::NonNullType(inner) => named_type(inner),
    }
}

/// The `graph:` argument of a join directive, as the enum value's name.
fn graph_argument(directive: &Directive<'static, String>) -> Option<String> {
    directive
        .arguments
        .iter()
        .find(|(name, _)| name == "graph")
        .and_then(|(_, value)| match value {
            Value::Enum(graph) => Some(graph.clone()),
            _ => None,
        })
}

fn add_join_types(directives: &mut Vec<Directive<'static, String>>, graphs: &BTreeSet<String>) {
    let present: BTreeSet<String> = directives
        .iter()
        .filter(|d| d.name == "join__type")
        .filter_map(graph_argument)
        .collect();
    for graph in graphs.difference(&present) {
        directives.push(Directive {
            position: Pos { line: 0, column: 0 },
            name: "join__type".into(),
            arguments: vec![("graph".into(), Value::Enum(graph.clone()))],
        });
    }
}
