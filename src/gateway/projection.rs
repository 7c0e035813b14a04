//! Response shaping: one pass over the merged subgraph data following the
//! client operation, writing the client's `data` straight into the response
//! bytes (no output tree is built, serialized and dropped). Projects exactly
//! the requested fields in request order, resolves abstract types by
//! `__typename`, answers introspection fields, and propagates nulls as the
//! GraphQL spec says (a null in a non-null position bubbles to the nearest
//! nullable parent with one error at that path): a parent that bubbles has
//! its bytes cut back and `null` written in their place.

use std::rc::Rc;

use graphql_tools::static_graphql::schema::Type;
use serde_json::{Map, Value as Json};

use super::data::{Data, Object};

use super::introspection;
use super::json_write;
use super::response::{GraphQLError, PathSegment};
use super::schema_index::{SchemaIndex, TypeKind};
use super::shape::{collect_fields, CollectedFields, FieldShape, SelectionShape};
use crate::error_code::ErrorCode;

/// A null reached a non-null position: the parent must become null.
struct Bubble;

/// What a position received.
#[derive(PartialEq, Eq)]
enum Written {
    Null,
    Value,
}

/// One step of the response path being written; keys borrow the shape, so
/// walking allocates nothing until an error needs its path.
#[derive(Clone, Copy)]
enum Step<'s> {
    Key(&'s str),
    Index(usize),
}

impl Step<'_> {
    fn owned(self) -> PathSegment {
        match self {
            Step::Key(key) => PathSegment::Key(key.to_string()),
            Step::Index(index) => PathSegment::Index(index),
        }
    }

    fn is(self, segment: &PathSegment) -> bool {
        match (self, segment) {
            (Step::Key(a), PathSegment::Key(b)) => a == b,
            (Step::Index(a), PathSegment::Index(b)) => a == *b,
            _ => false,
        }
    }
}

const NULL: &Data = &Data::Null;

/// The field a value is completed for.
struct Position<'p> {
    parent: &'p str,
    field_name: &'p str,
    /// The kind of the field's named type.
    kind: Option<TypeKind>,
}

/// The fields collected for one selection on one type: every object of that
/// type under that selection collects the same fields, so it is done once.
struct CollectedFor<'a> {
    shapes: Vec<&'a SelectionShape>,
    object_type: Option<Box<str>>,
    declared: Box<str>,
    fields: Rc<CollectedFields<'a>>,
}

/// Beyond this many distinct selections, fields are collected afresh.
const COLLECTED_LIMIT: usize = 64;

pub struct Projection<'a> {
    schema: &'a SchemaIndex,
    variables: &'a Map<String, Json>,
    errors: &'a mut Vec<GraphQLError>,
    out: &'a mut Vec<u8>,
    path: Vec<Step<'a>>,
    collected: Vec<CollectedFor<'a>>,
}

impl<'a> Projection<'a> {
    /// A projection appending the client's `data` to `out`.
    pub fn new(
        schema: &'a SchemaIndex,
        variables: &'a Map<String, Json>,
        errors: &'a mut Vec<GraphQLError>,
        out: &'a mut Vec<u8>,
    ) -> Self {
        Projection {
            schema,
            variables,
            errors,
            out,
            path: Vec::with_capacity(16),
            collected: Vec::new(),
        }
    }

    /// The fields of `shapes` that apply to an object of `object_type`.
    fn collect(
        &mut self,
        shapes: &[&'a SelectionShape],
        object_type: Option<&str>,
        declared: &str,
    ) -> Rc<CollectedFields<'a>> {
        // Pointer comparisons first: they rule out most entries.
        let known = self.collected.iter().find(|c| {
            c.shapes.len() == shapes.len()
                && c.shapes
                    .iter()
                    .zip(shapes)
                    .all(|(a, b)| std::ptr::eq(*a, *b))
                && c.object_type.as_deref() == object_type
                && &*c.declared == declared
        });
        if let Some(known) = known {
            return known.fields.clone();
        }
        let fields = Rc::new(collect_fields(
            shapes,
            object_type,
            declared,
            self.schema,
            self.variables,
        ));
        if self.collected.len() < COLLECTED_LIMIT {
            self.collected.push(CollectedFor {
                shapes: shapes.to_vec(),
                object_type: object_type.map(Box::from),
                declared: Box::from(declared),
                fields: fields.clone(),
            });
        }
        fields
    }

    /// Writes the root object; `null` when a null bubbled to the root.
    pub fn root(&mut self, data: &Data, root_type: &str, shape: &'a SelectionShape) {
        let empty = Object::new();
        let map = match data {
            Data::Object(map) => map,
            _ => &empty,
        };
        let start = self.out.len();
        if self
            .object(map, Some(root_type), root_type, &[shape])
            .is_err()
        {
            self.cut_to_null(start);
        }
    }

    fn cut_to_null(&mut self, start: usize) {
        self.out.truncate(start);
        self.out.extend_from_slice(b"null");
    }

    fn null(&mut self) -> Written {
        self.out.extend_from_slice(b"null");
        Written::Null
    }

    fn object(
        &mut self,
        data: &Object,
        object_type: Option<&str>,
        declared: &str,
        shapes: &[&'a SelectionShape],
    ) -> Result<(), Bubble> {
        let collected = self.collect(shapes, object_type, declared);
        let parent = object_type.unwrap_or(declared);
        self.out.push(b'{');
        for (position, (key, fields)) in collected.iter().enumerate() {
            if position > 0 {
                self.out.push(b',');
            }
            let field = fields[0];
            self.out.extend_from_slice(&field.key_json);
            self.path.push(Step::Key(key));
            let written = match field.name.as_str() {
                "__typename" => {
                    json_write::string(self.out, parent);
                    Ok(Written::Value)
                }
                "__schema" | "__type" if parent == self.schema.query_type => {
                    let answer =
                        introspection::resolve_root_field(self.schema, fields, self.variables);
                    json_write::value(self.out, &answer);
                    Ok(Written::Value)
                }
                _ => {
                    let raw = data.get(key).unwrap_or(NULL);
                    self.field(raw, field, fields, parent)
                }
            };
            self.path.pop();
            written?;
        }
        self.out.push(b'}');
        Ok(())
    }

    fn field(
        &mut self,
        raw: &Data,
        field: &'a FieldShape,
        fields: &[&'a FieldShape],
        parent: &str,
    ) -> Result<Written, Bubble> {
        let at = Position {
            parent,
            field_name: &field.name,
            kind: field.kind,
        };
        if field.selection.is_empty() {
            return self.value(raw, &field.ty, &[], &at);
        }
        if let [only] = fields {
            return self.value(raw, &field.ty, &[&only.selection], &at);
        }
        let shapes: Vec<&SelectionShape> = fields.iter().map(|f| &f.selection).collect();
        self.value(raw, &field.ty, &shapes, &at)
    }

    fn value(
        &mut self,
        raw: &Data,
        ty: &Type,
        shapes: &[&'a SelectionShape],
        at: &Position<'_>,
    ) -> Result<Written, Bubble> {
        let Position {
            parent, field_name, ..
        } = *at;
        match ty {
            Type::NonNullType(inner) => {
                let written = self.value(raw, inner, shapes, at)?;
                if written == Written::Null {
                    self.null_error(parent, field_name);
                    return Err(Bubble);
                }
                Ok(written)
            }
            Type::ListType(inner) => match raw {
                Data::Null => Ok(self.null()),
                Data::Array(items) => {
                    let start = self.out.len();
                    self.out.push(b'[');
                    for (index, item) in items.iter().enumerate() {
                        if index > 0 {
                            self.out.push(b',');
                        }
                        self.path.push(Step::Index(index));
                        let completed = self.value(item, inner, shapes, at);
                        self.path.pop();
                        if completed.is_err() {
                            self.cut_to_null(start);
                            return Ok(Written::Null);
                        }
                    }
                    self.out.push(b']');
                    Ok(Written::Value)
                }
                _ => {
                    self.field_error(format!(
                        "Expected a list for field \"{parent}.{field_name}\"."
                    ));
                    Ok(self.null())
                }
            },
            Type::NamedType(name) => {
                if raw.is_null() {
                    return Ok(self.null());
                }
                match at.kind {
                    Some(TypeKind::Enum) => {
                        let known = raw.as_str().is_some_and(|v| {
                            self.schema
                                .get(name)
                                .is_some_and(|t| t.enum_values.contains(v))
                        });
                        if known {
                            json_write::data(self.out, raw);
                            Ok(Written::Value)
                        } else {
                            self.field_error(format!(
                                "Enum \"{name}\" cannot represent value: {raw}"
                            ));
                            Ok(self.null())
                        }
                    }
                    Some(TypeKind::Object | TypeKind::Interface | TypeKind::Union) => {
                        let Data::Object(map) = raw else {
                            self.field_error(format!(
                                "Expected an object for field \"{parent}.{field_name}\"."
                            ));
                            return Ok(self.null());
                        };
                        // A concrete type the public schema does not have
                        // (@inaccessible) cannot be shown: the value is null.
                        let hidden = map
                            .typename()
                            .is_some_and(|t| self.schema.kind(t).is_none());
                        if hidden && self.schema.is_abstract(name) {
                            return Ok(self.null());
                        }
                        let object_type = self.concrete_type(map, name);
                        let start = self.out.len();
                        match self.object(map, object_type, name, shapes) {
                            Ok(()) => Ok(Written::Value),
                            Err(Bubble) => {
                                self.cut_to_null(start);
                                Ok(Written::Null)
                            }
                        }
                    }
                    _ => {
                        json_write::data(self.out, raw);
                        Ok(Written::Value)
                    }
                }
            }
        }
    }

    /// The concrete object type of `map` declared as `declared`.
    fn concrete_type<'m>(&self, map: &'m Object, declared: &'m str) -> Option<&'m str> {
        if self.schema.kind(declared) == Some(TypeKind::Object) {
            return Some(declared);
        }
        let typename = map.typename()?;
        (self.schema.kind(typename) == Some(TypeKind::Object)
            && self.schema.satisfies(typename, declared))
        .then_some(typename)
    }

    fn has_error_near_path(&self) -> bool {
        self.errors.iter().any(|e| {
            e.path.as_ref().is_some_and(|p| {
                p.iter()
                    .zip(&self.path)
                    .all(|(segment, step)| step.is(segment))
            })
        })
    }

    fn owned_path(&self) -> Vec<PathSegment> {
        self.path.iter().map(|step| step.owned()).collect()
    }

    fn null_error(&mut self, parent: &str, field_name: &str) {
        if self.has_error_near_path() {
            return;
        }
        let path = self.owned_path();
        self.errors.push(
            GraphQLError::new(
                format!("Cannot return null for non-nullable field {parent}.{field_name}."),
                ErrorCode::SubgraphError,
            )
            .with_path(path),
        );
    }

    fn field_error(&mut self, message: String) {
        let path = self.owned_path();
        self.errors
            .push(GraphQLError::new(message, ErrorCode::SubgraphError).with_path(path));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use graphql_tools::static_graphql::query::{Definition, OperationDefinition};
    use hive_router_query_planner::utils::parsing::{safe_parse_operation, safe_parse_schema};
    use serde_json::{json, Map, Value};

    use super::Projection;
    use crate::gateway::response::GraphQLError;
    use crate::gateway::schema_index::SchemaIndex;
    use crate::gateway::shape;

    const SDL: &str = r#"
        type Query { me: User, users: [User!], names: [String!]!, nodes: [Node] }
        interface Node { id: ID! }
        type User implements Node { id: ID!, name: String, friend: User, role: Role }
        type Bot implements Node { id: ID!, model: String }
        enum Role { ADMIN, MEMBER }
    "#;

    /// The written `data` and the errors' paths.
    fn project(query: &str, data: Value) -> (String, Vec<String>) {
        let schema = SchemaIndex::from_document(Arc::new(safe_parse_schema(SDL).expect("sdl")));
        let document = safe_parse_operation(query).expect("query");
        let Some(Definition::Operation(OperationDefinition::SelectionSet(selection_set))) =
            document.definitions.first()
        else {
            panic!("not a query shorthand");
        };
        let shape = shape::compile(&document, selection_set, "Query", &schema).expect("shape");
        let variables = Map::new();
        let mut errors: Vec<GraphQLError> = Vec::new();
        let mut out = Vec::new();
        Projection::new(&schema, &variables, &mut errors, &mut out).root(
            &crate::gateway::data::Data::from(&data),
            "Query",
            &shape,
        );
        let paths = errors
            .iter()
            .map(|e| serde_json::to_string(&e.path).unwrap_or_default())
            .collect();
        (String::from_utf8(out).unwrap_or_default(), paths)
    }

    #[test]
    fn writes_fields_in_selection_order_with_aliases_and_typename() {
        let (data, errors) = project(
            "{ me { who: name __typename id role } }",
            json!({"me": {"id": "1", "role": "ADMIN", "who": "a \"b\"\n", "extra": 1}}),
        );
        assert_eq!(
            data,
            r#"{"me":{"who":"a \"b\"\n","__typename":"User","id":"1","role":"ADMIN"}}"#
        );
        assert!(errors.is_empty());
    }

    #[test]
    fn a_null_in_a_non_null_field_nulls_the_nearest_nullable_parent() {
        let (data, errors) = project(
            "{ me { name friend { id name } } }",
            json!({"me": {"name": "a", "friend": {"id": null, "name": "b"}}}),
        );
        assert_eq!(data, r#"{"me":{"name":"a","friend":null}}"#);
        assert_eq!(errors, vec![r#"["me","friend","id"]"#]);
    }

    #[test]
    fn a_null_item_in_a_list_of_non_null_nulls_the_list_and_may_reach_the_root() {
        let (data, errors) = project(
            "{ users { id } }",
            json!({"users": [{"id": "1"}, {"id": null}]}),
        );
        assert_eq!(data, r#"{"users":null}"#);
        assert_eq!(errors, vec![r#"["users",1,"id"]"#]);

        let (data, errors) = project("{ names }", json!({"names": ["a", null]}));
        assert_eq!(data, "null");
        assert_eq!(errors, vec![r#"["names",1]"#]);
    }

    #[test]
    fn objects_of_different_types_in_one_list_get_their_own_fields() {
        let (data, errors) = project(
            "{ nodes { id ... on User { name } ... on Bot { model __typename } } }",
            json!({"nodes": [
                {"__typename": "User", "id": "1", "name": "a", "model": "x"},
                {"__typename": "Bot", "id": "2", "name": "b", "model": "m"},
                {"__typename": "User", "id": "3", "name": "c"}
            ]}),
        );
        assert_eq!(
            data,
            r#"{"nodes":[{"id":"1","name":"a"},{"id":"2","model":"m","__typename":"Bot"},{"id":"3","name":"c"}]}"#
        );
        assert!(errors.is_empty());
    }

    #[test]
    fn unknown_enum_values_and_wrong_shapes_become_errors() {
        let (data, errors) = project(
            "{ me { role friend { id } } }",
            json!({"me": {"role": "ROOT", "friend": "not an object"}}),
        );
        assert_eq!(data, r#"{"me":{"role":null,"friend":null}}"#);
        assert_eq!(errors, vec![r#"["me","role"]"#, r#"["me","friend"]"#]);
    }
}
