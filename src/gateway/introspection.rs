//! Introspection (`__schema`, `__type`) answered from the public API schema:
//! join/link internals and @inaccessible elements are never visible.

use graphql_tools::static_graphql::query::Value as QueryValue;
use graphql_tools::static_graphql::schema::{
    Directive, DirectiveDefinition, EnumValue, Field, InputValue, Type, TypeDefinition,
};
use serde_json::{Map, Value as Json};

use super::schema_index::{type_definition_name, SchemaIndex};
use super::shape::{collect_fields, FieldShape, SelectionShape};

/// One introspection object being resolved.
#[derive(Clone, Copy)]
enum Node<'a> {
    Schema,
    Named(&'a TypeDefinition),
    Wrapped(&'a Type),
    Field(&'a Field),
    InputValue(&'a InputValue),
    EnumValue(&'a EnumValue),
    Directive(&'a DirectiveDefinition),
}

impl Node<'_> {
    fn type_name(&self) -> &'static str {
        match self {
            Node::Schema => "__Schema",
            Node::Named(_) | Node::Wrapped(_) => "__Type",
            Node::Field(_) => "__Field",
            Node::InputValue(_) => "__InputValue",
            Node::EnumValue(_) => "__EnumValue",
            Node::Directive(_) => "__Directive",
        }
    }
}

struct Resolver<'a> {
    schema: &'a SchemaIndex,
    variables: &'a Map<String, Json>,
}

/// Resolves a root `__schema` or `__type(name:)` field (merged fields share a key).
pub fn resolve_root_field(
    schema: &SchemaIndex,
    fields: &[&FieldShape],
    variables: &Map<String, Json>,
) -> Json {
    let resolver = Resolver { schema, variables };
    let Some(first) = fields.first() else {
        return Json::Null;
    };
    let shapes: Vec<&SelectionShape> = fields.iter().map(|f| &f.selection).collect();
    match first.name.as_str() {
        "__schema" => resolver.object(Node::Schema, &shapes),
        "__type" => {
            let name = resolver.string_argument(first, "name");
            match name.as_deref().and_then(|n| schema.definition(n)) {
                Some(def) => resolver.object(Node::Named(def), &shapes),
                None => Json::Null,
            }
        }
        _ => Json::Null,
    }
}

fn is_deprecated(directives: &[Directive]) -> Option<Json> {
    directives.iter().find(|d| d.name == "deprecated").map(|d| {
        d.arguments
            .iter()
            .find_map(|(n, v)| match v {
                QueryValue::String(s) if n == "reason" => Some(Json::String(s.clone())),
                _ => None,
            })
            .unwrap_or_else(|| Json::String("No longer supported".into()))
    })
}

fn description(d: &Option<String>) -> Json {
    d.clone().map(Json::String).unwrap_or(Json::Null)
}

impl<'a> Resolver<'a> {
    fn argument(&self, field: &FieldShape, name: &str) -> Option<Json> {
        let (_, value) = field.arguments.iter().find(|(n, _)| n == name)?;
        Some(match value {
            QueryValue::Variable(v) => self.variables.get(v).cloned().unwrap_or(Json::Null),
            QueryValue::Boolean(b) => Json::Bool(*b),
            QueryValue::String(s) => Json::String(s.clone()),
            _ => Json::Null,
        })
    }

    fn string_argument(&self, field: &FieldShape, name: &str) -> Option<String> {
        match self.argument(field, name)? {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    fn include_deprecated(&self, field: &FieldShape) -> bool {
        matches!(
            self.argument(field, "includeDeprecated"),
            Some(Json::Bool(true))
        )
    }

    fn object(&self, node: Node<'a>, shapes: &[&SelectionShape]) -> Json {
        let type_name = node.type_name();
        let collected = collect_fields(
            shapes,
            Some(type_name),
            type_name,
            self.schema,
            self.variables,
        );
        let mut out = Map::with_capacity(collected.len());
        for (key, fields) in collected {
            let field = fields[0];
            let child: Vec<&SelectionShape> = fields.iter().map(|f| &f.selection).collect();
            let value = if field.name == "__typename" {
                Json::String(type_name.to_string())
            } else {
                self.field(node, field, &child)
            };
            out.insert(key.to_string(), value);
        }
        Json::Object(out)
    }

    fn list<I: IntoIterator<Item = Node<'a>>>(&self, nodes: I, shapes: &[&SelectionShape]) -> Json {
        Json::Array(nodes.into_iter().map(|n| self.object(n, shapes)).collect())
    }

    fn type_ref(&self, ty: &'a Type, shapes: &[&SelectionShape]) -> Json {
        match ty {
            Type::NamedType(name) => match self.schema.definition(name) {
                Some(def) => self.object(Node::Named(def), shapes),
                None => Json::Null,
            },
            _ => self.object(Node::Wrapped(ty), shapes),
        }
    }

    fn named(&self, name: &str, shapes: &[&SelectionShape]) -> Json {
        match self.schema.definition(name) {
            Some(def) => self.object(Node::Named(def), shapes),
            None => Json::Null,
        }
    }

    fn field(&self, node: Node<'a>, field: &FieldShape, shapes: &[&SelectionShape]) -> Json {
        let name = field.name.as_str();
        match node {
            Node::Schema => {
                match name {
                    "description" => Json::Null,
                    "types" => self.list(self.schema.type_definitions().map(Node::Named), shapes),
                    "queryType" => self.named(&self.schema.query_type, shapes),
                    "mutationType" => match &self.schema.mutation_type {
                        Some(m) => self.named(m, shapes),
                        None => Json::Null,
                    },
                    "subscriptionType" => match &self.schema.subscription_type {
                        Some(s) => self.named(s, shapes),
                        None => Json::Null,
                    },
                    "directives" => self.list(
                        self.schema.document().definitions.iter().filter_map(|d| {
                            match d {
                        graphql_tools::static_graphql::schema::Definition::DirectiveDefinition(
                            dd,
                        ) => Some(Node::Directive(dd)),
                        _ => None,
                    }
                        }),
                        shapes,
                    ),
                    _ => Json::Null,
                }
            }
            Node::Named(def) => self.named_type_field(def, field, shapes),
            Node::Wrapped(ty) => match name {
                "kind" => Json::String(
                    match ty {
                        Type::ListType(_) => "LIST",
                        _ => "NON_NULL",
                    }
                    .into(),
                ),
                "ofType" => match ty {
                    Type::ListType(inner) | Type::NonNullType(inner) => {
                        self.type_ref(inner, shapes)
                    }
                    Type::NamedType(_) => Json::Null,
                },
                _ => Json::Null,
            },
            Node::Field(f) => match name {
                "name" => Json::String(f.name.clone()),
                "description" => description(&f.description),
                "args" => self.list(
                    f.arguments
                        .iter()
                        .filter(|a| {
                            self.include_deprecated(field) || is_deprecated(&a.directives).is_none()
                        })
                        .map(Node::InputValue),
                    shapes,
                ),
                "type" => self.type_ref(&f.field_type, shapes),
                "isDeprecated" => Json::Bool(is_deprecated(&f.directives).is_some()),
                "deprecationReason" => is_deprecated(&f.directives).unwrap_or(Json::Null),
                _ => Json::Null,
            },
            Node::InputValue(v) => match name {
                "name" => Json::String(v.name.clone()),
                "description" => description(&v.description),
                "type" => self.type_ref(&v.value_type, shapes),
                "defaultValue" => v
                    .default_value
                    .as_ref()
                    .map(|d| Json::String(d.to_string()))
                    .unwrap_or(Json::Null),
                "isDeprecated" => Json::Bool(is_deprecated(&v.directives).is_some()),
                "deprecationReason" => is_deprecated(&v.directives).unwrap_or(Json::Null),
                _ => Json::Null,
            },
            Node::EnumValue(v) => match name {
                "name" => Json::String(v.name.clone()),
                "description" => description(&v.description),
                "isDeprecated" => Json::Bool(is_deprecated(&v.directives).is_some()),
                "deprecationReason" => is_deprecated(&v.directives).unwrap_or(Json::Null),
                _ => Json::Null,
            },
            Node::Directive(d) => match name {
                "name" => Json::String(d.name.clone()),
                "description" => description(&d.description),
                "isRepeatable" => Json::Bool(d.repeatable),
                "locations" => Json::Array(
                    d.locations
                        .iter()
                        .map(|l| Json::String(l.as_str().to_string()))
                        .collect(),
                ),
                "args" => self.list(d.arguments.iter().map(Node::InputValue), shapes),
                _ => Json::Null,
            },
        }
    }

    fn named_type_field(
        &self,
        def: &'a TypeDefinition,
        field: &FieldShape,
        shapes: &[&SelectionShape],
    ) -> Json {
        let include_deprecated = self.include_deprecated(field);
        match field.name.as_str() {
            "kind" => Json::String(
                match def {
                    TypeDefinition::Scalar(_) => "SCALAR",
                    TypeDefinition::Object(_) => "OBJECT",
                    TypeDefinition::Interface(_) => "INTERFACE",
                    TypeDefinition::Union(_) => "UNION",
                    TypeDefinition::Enum(_) => "ENUM",
                    TypeDefinition::InputObject(_) => "INPUT_OBJECT",
                }
                .into(),
            ),
            "name" => Json::String(type_definition_name(def).to_string()),
            "description" => match def {
                TypeDefinition::Scalar(t) => description(&t.description),
                TypeDefinition::Object(t) => description(&t.description),
                TypeDefinition::Interface(t) => description(&t.description),
                TypeDefinition::Union(t) => description(&t.description),
                TypeDefinition::Enum(t) => description(&t.description),
                TypeDefinition::InputObject(t) => description(&t.description),
            },
            "fields" => {
                let fields = match def {
                    TypeDefinition::Object(t) => &t.fields,
                    TypeDefinition::Interface(t) => &t.fields,
                    _ => return Json::Null,
                };
                self.list(
                    fields
                        .iter()
                        .filter(|f| !f.name.starts_with("__"))
                        .filter(|f| include_deprecated || is_deprecated(&f.directives).is_none())
                        .map(Node::Field),
                    shapes,
                )
            }
            "interfaces" => {
                let interfaces = match def {
                    TypeDefinition::Object(t) => &t.implements_interfaces,
                    TypeDefinition::Interface(t) => &t.implements_interfaces,
                    _ => return Json::Null,
                };
                Json::Array(
                    interfaces
                        .iter()
                        .map(|i| self.named(i, shapes))
                        .filter(|v| !v.is_null())
                        .collect(),
                )
            }
            "possibleTypes" => {
                let name = type_definition_name(def);
                let Some(info) = self.schema.get(name) else {
                    return Json::Null;
                };
                if !matches!(def, TypeDefinition::Interface(_) | TypeDefinition::Union(_)) {
                    return Json::Null;
                }
                let mut names: Vec<&String> = info.possible_types.iter().collect();
                names.sort();
                Json::Array(
                    names
                        .into_iter()
                        .map(|n| self.named(n, shapes))
                        .filter(|v| !v.is_null())
                        .collect(),
                )
            }
            "enumValues" => match def {
                TypeDefinition::Enum(e) => self.list(
                    e.values
                        .iter()
                        .filter(|v| include_deprecated || is_deprecated(&v.directives).is_none())
                        .map(Node::EnumValue),
                    shapes,
                ),
                _ => Json::Null,
            },
            "inputFields" => match def {
                TypeDefinition::InputObject(i) => self.list(
                    i.fields
                        .iter()
                        .filter(|v| include_deprecated || is_deprecated(&v.directives).is_none())
                        .map(Node::InputValue),
                    shapes,
                ),
                _ => Json::Null,
            },
            "ofType" => Json::Null,
            "specifiedByURL" => match def {
                TypeDefinition::Scalar(s) => s
                    .directives
                    .iter()
                    .find(|d| d.name == "specifiedBy")
                    .and_then(|d| {
                        d.arguments.iter().find_map(|(n, v)| match v {
                            QueryValue::String(s) if n == "url" => Some(Json::String(s.clone())),
                            _ => None,
                        })
                    })
                    .unwrap_or(Json::Null),
                _ => Json::Null,
            },
            "isOneOf" => match def {
                TypeDefinition::InputObject(i) => {
                    Json::Bool(i.directives.iter().any(|d| d.name == "oneOf"))
                }
                _ => Json::Null,
            },
            _ => Json::Null,
        }
    }
}
