//! Response shaping: one pass over the merged subgraph data following the
//! client operation. Projects exactly the requested fields in request order,
//! resolves abstract types by `__typename`, answers introspection fields, and
//! propagates nulls as the GraphQL spec says (a null in a non-null position
//! bubbles to the nearest nullable parent with one error at that path).

use graphql_tools::static_graphql::schema::Type;
use serde_json::{Map, Value as Json};

use super::introspection;
use super::response::{GraphQLError, PathSegment};
use super::schema_index::{SchemaIndex, TypeKind};
use super::shape::{collect_fields, FieldShape, SelectionShape};
use crate::error_code::ErrorCode;

/// A null reached a non-null position: the parent must become null.
struct Bubble;

pub struct Projection<'a> {
    schema: &'a SchemaIndex,
    variables: &'a Map<String, Json>,
    errors: &'a mut Vec<GraphQLError>,
    path: Vec<PathSegment>,
}

impl<'a> Projection<'a> {
    pub fn new(
        schema: &'a SchemaIndex,
        variables: &'a Map<String, Json>,
        errors: &'a mut Vec<GraphQLError>,
    ) -> Self {
        Projection {
            schema,
            variables,
            errors,
            path: Vec::with_capacity(16),
        }
    }

    /// Shapes the root object; `Json::Null` when a null bubbled to the root.
    pub fn root(&mut self, data: Json, root_type: &str, shape: &SelectionShape) -> Json {
        let map = match data {
            Json::Object(map) => map,
            _ => Map::new(),
        };
        match self.object(map, Some(root_type), root_type, &[shape]) {
            Ok(value) => value,
            Err(Bubble) => Json::Null,
        }
    }

    fn object(
        &mut self,
        mut data: Map<String, Json>,
        object_type: Option<&str>,
        declared: &str,
        shapes: &[&SelectionShape],
    ) -> Result<Json, Bubble> {
        let collected = collect_fields(shapes, object_type, declared, self.schema, self.variables);
        let parent = object_type.unwrap_or(declared);
        let mut out = Map::with_capacity(collected.len());
        for (key, fields) in collected {
            let field = fields[0];
            self.path.push(PathSegment::Key(key.to_string()));
            let value = match field.name.as_str() {
                "__typename" => Ok(Json::String(parent.to_string())),
                "__schema" | "__type" if Some(parent) == Some(&self.schema.query_type[..]) => Ok(
                    introspection::resolve_root_field(self.schema, &fields, self.variables),
                ),
                _ => {
                    let raw = data.remove(key).unwrap_or(Json::Null);
                    self.field(raw, field, &fields, parent)
                }
            };
            self.path.pop();
            out.insert(key.to_string(), value?);
        }
        Ok(Json::Object(out))
    }

    fn field(
        &mut self,
        raw: Json,
        field: &FieldShape,
        fields: &[&FieldShape],
        parent: &str,
    ) -> Result<Json, Bubble> {
        let shapes: Vec<&SelectionShape> = if field.selection.is_empty() {
            Vec::new()
        } else {
            fields.iter().map(|f| &f.selection).collect()
        };
        self.value(raw, &field.ty, &shapes, parent, &field.name)
    }

    fn value(
        &mut self,
        raw: Json,
        ty: &Type,
        shapes: &[&SelectionShape],
        parent: &str,
        field_name: &str,
    ) -> Result<Json, Bubble> {
        match ty {
            Type::NonNullType(inner) => {
                let value = self.value(raw, inner, shapes, parent, field_name)?;
                if value.is_null() {
                    self.null_error(parent, field_name);
                    return Err(Bubble);
                }
                Ok(value)
            }
            Type::ListType(inner) => match raw {
                Json::Null => Ok(Json::Null),
                Json::Array(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for (index, item) in items.into_iter().enumerate() {
                        self.path.push(PathSegment::Index(index));
                        let completed = self.value(item, inner, shapes, parent, field_name);
                        self.path.pop();
                        match completed {
                            Ok(v) => out.push(v),
                            Err(Bubble) => return Ok(Json::Null),
                        }
                    }
                    Ok(Json::Array(out))
                }
                _ => {
                    self.field_error(format!(
                        "Expected a list for field \"{parent}.{field_name}\"."
                    ));
                    Ok(Json::Null)
                }
            },
            Type::NamedType(name) => {
                if raw.is_null() {
                    return Ok(Json::Null);
                }
                match self.schema.kind(name) {
                    Some(TypeKind::Enum) => {
                        let known = raw.as_str().is_some_and(|v| {
                            self.schema
                                .get(name)
                                .is_some_and(|t| t.enum_values.contains(v))
                        });
                        if known {
                            Ok(raw)
                        } else {
                            self.field_error(format!(
                                "Enum \"{name}\" cannot represent value: {raw}"
                            ));
                            Ok(Json::Null)
                        }
                    }
                    Some(TypeKind::Object | TypeKind::Interface | TypeKind::Union) => {
                        let Json::Object(map) = raw else {
                            self.field_error(format!(
                                "Expected an object for field \"{parent}.{field_name}\"."
                            ));
                            return Ok(Json::Null);
                        };
                        // A concrete type the public schema does not have
                        // (@inaccessible) cannot be shown: the value is null.
                        let hidden = map
                            .get("__typename")
                            .and_then(Json::as_str)
                            .is_some_and(|t| self.schema.kind(t).is_none());
                        if hidden && self.schema.is_abstract(name) {
                            return Ok(Json::Null);
                        }
                        let object_type = self.concrete_type(&map, name);
                        let object_type = object_type.map(str::to_string);
                        match self.object(map, object_type.as_deref(), name, shapes) {
                            Ok(v) => Ok(v),
                            Err(Bubble) => Ok(Json::Null),
                        }
                    }
                    _ => Ok(raw),
                }
            }
        }
    }

    /// The concrete object type of `map` declared as `declared`.
    fn concrete_type<'m>(
        &'m self,
        map: &'m Map<String, Json>,
        declared: &'m str,
    ) -> Option<&'m str> {
        if self.schema.kind(declared) == Some(TypeKind::Object) {
            return Some(declared);
        }
        let typename = map.get("__typename")?.as_str()?;
        (self.schema.kind(typename) == Some(TypeKind::Object)
            && self.schema.satisfies(typename, declared))
        .then_some(typename)
    }

    fn has_error_near_path(&self) -> bool {
        self.errors.iter().any(|e| {
            e.path.as_ref().is_some_and(|p| {
                let n = p.len().min(self.path.len());
                p[..n] == self.path[..n]
            })
        })
    }

    fn null_error(&mut self, parent: &str, field_name: &str) {
        if self.has_error_near_path() {
            return;
        }
        self.errors.push(
            GraphQLError::new(
                format!("Cannot return null for non-nullable field {parent}.{field_name}."),
                ErrorCode::SubgraphError,
            )
            .with_path(self.path.clone()),
        );
    }

    fn field_error(&mut self, message: String) {
        self.errors.push(
            GraphQLError::new(message, ErrorCode::SubgraphError).with_path(self.path.clone()),
        );
    }
}
