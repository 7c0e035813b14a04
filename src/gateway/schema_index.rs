//! Fast look-ups over a schema document: type kinds, field types, possible
//! types of abstract types, enum values and input fields. Built once per
//! supergraph for the public API schema and for the full supergraph. The keys
//! are the schema's own names, not request input, so the maps use the fast
//! unkeyed Fx hash: execution asks them several times per response object.

use std::sync::Arc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use graphql_tools::static_graphql::schema::{
    Definition, Document, Field, InputValue, Type, TypeDefinition,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeKind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

/// One named type of the schema.
#[derive(Debug)]
pub struct TypeInfo {
    pub kind: TypeKind,
    /// Output fields by name (objects and interfaces).
    pub fields: HashMap<String, Type>,
    /// Concrete object types this type may be at runtime (itself for objects).
    pub possible_types: HashSet<String>,
    pub enum_values: HashSet<String>,
    /// Input fields in declaration order (input objects).
    pub input_fields: Vec<InputValue>,
    /// An input object marked `@oneOf`: exactly one field must be given.
    pub one_of: bool,
}

/// A schema document with the indexes execution needs.
pub struct SchemaIndex {
    document: Arc<Document>,
    types: HashMap<String, TypeInfo>,
    /// Position of each type definition in `document.definitions`.
    definitions: HashMap<String, usize>,
    pub query_type: String,
    pub mutation_type: Option<String>,
    pub subscription_type: Option<String>,
}

fn is_internal_name(name: &str) -> bool {
    name.starts_with("join__") || name.starts_with("link__")
}

impl SchemaIndex {
    pub fn from_document(document: Arc<Document>) -> SchemaIndex {
        let mut types: HashMap<String, TypeInfo> = HashMap::default();
        let mut implementations: Vec<(String, String)> = Vec::new();
        let mut query_type = "Query".to_string();
        let mut mutation_type = None;
        let mut subscription_type = None;
        let mut saw_schema = false;
        let mut definitions = HashMap::default();
        let empty = |kind| TypeInfo {
            kind,
            fields: HashMap::default(),
            possible_types: HashSet::default(),
            enum_values: HashSet::default(),
            input_fields: Vec::new(),
            one_of: false,
        };
        let fields_of = |fields: &[Field]| {
            fields
                .iter()
                .map(|f| (f.name.clone(), f.field_type.clone()))
                .collect::<HashMap<_, _>>()
        };
        for (position, definition) in document.definitions.iter().enumerate() {
            if let Definition::TypeDefinition(def) = definition {
                definitions.insert(type_definition_name(def).to_string(), position);
            }
            match definition {
                Definition::SchemaDefinition(schema) => {
                    saw_schema = true;
                    if let Some(q) = &schema.query {
                        query_type = q.clone();
                    }
                    mutation_type = schema.mutation.clone();
                    subscription_type = schema.subscription.clone();
                }
                Definition::TypeDefinition(def) => match def {
                    TypeDefinition::Scalar(s) => {
                        types.insert(s.name.clone(), empty(TypeKind::Scalar));
                    }
                    TypeDefinition::Object(o) => {
                        let mut info = empty(TypeKind::Object);
                        info.fields = fields_of(&o.fields);
                        info.possible_types.insert(o.name.clone());
                        for i in &o.implements_interfaces {
                            implementations.push((i.clone(), o.name.clone()));
                        }
                        types.insert(o.name.clone(), info);
                    }
                    TypeDefinition::Interface(i) => {
                        let mut info = empty(TypeKind::Interface);
                        info.fields = fields_of(&i.fields);
                        types.insert(i.name.clone(), info);
                    }
                    TypeDefinition::Union(u) => {
                        let mut info = empty(TypeKind::Union);
                        info.possible_types = u.types.iter().cloned().collect();
                        types.insert(u.name.clone(), info);
                    }
                    TypeDefinition::Enum(e) => {
                        let mut info = empty(TypeKind::Enum);
                        info.enum_values = e.values.iter().map(|v| v.name.clone()).collect();
                        types.insert(e.name.clone(), info);
                    }
                    TypeDefinition::InputObject(i) => {
                        let mut info = empty(TypeKind::InputObject);
                        info.input_fields = i.fields.clone();
                        info.one_of = i.directives.iter().any(|d| d.name == "oneOf");
                        types.insert(i.name.clone(), info);
                    }
                },
                _ => {}
            }
        }
        for builtin in ["String", "Int", "Float", "Boolean", "ID"] {
            types
                .entry(builtin.to_string())
                .or_insert_with(|| empty(TypeKind::Scalar));
        }
        for (interface, object) in implementations {
            let is_object = types
                .get(&object)
                .is_some_and(|t| t.kind == TypeKind::Object);
            if let Some(info) = types.get_mut(&interface) {
                if is_object {
                    info.possible_types.insert(object);
                }
            }
        }
        if !saw_schema {
            if types.contains_key("Mutation") {
                mutation_type = Some("Mutation".into());
            }
            if types.contains_key("Subscription") {
                subscription_type = Some("Subscription".into());
            }
        }
        SchemaIndex {
            document,
            types,
            definitions,
            query_type,
            mutation_type,
            subscription_type,
        }
    }

    pub fn document(&self) -> &Document {
        &self.document
    }

    /// The definition of a named type (hidden for join__/link__ internals).
    pub fn definition(&self, name: &str) -> Option<&TypeDefinition> {
        if is_internal_name(name) {
            return None;
        }
        let position = *self.definitions.get(name)?;
        match self.document.definitions.get(position)? {
            Definition::TypeDefinition(def) => Some(def),
            _ => None,
        }
    }

    /// Every visible type definition, in document order.
    pub fn type_definitions(&self) -> impl Iterator<Item = &TypeDefinition> {
        self.document.definitions.iter().filter_map(|d| match d {
            Definition::TypeDefinition(def) if !is_internal_name(type_definition_name(def)) => {
                Some(def)
            }
            _ => None,
        })
    }

    pub fn get(&self, name: &str) -> Option<&TypeInfo> {
        if is_internal_name(name) {
            return None;
        }
        self.types.get(name)
    }

    /// The declared type of `type_name.field_name`.
    pub fn field_type(&self, type_name: &str, field_name: &str) -> Option<&Type> {
        self.types.get(type_name)?.fields.get(field_name)
    }

    pub fn kind(&self, name: &str) -> Option<TypeKind> {
        self.types.get(name).map(|t| t.kind)
    }

    pub fn is_abstract(&self, name: &str) -> bool {
        matches!(self.kind(name), Some(TypeKind::Interface | TypeKind::Union))
    }

    /// True when an object of type `object` satisfies the type condition `condition`.
    pub fn satisfies(&self, object: &str, condition: &str) -> bool {
        object == condition
            || self
                .types
                .get(condition)
                .is_some_and(|t| t.possible_types.contains(object))
    }

    pub fn root_type(&self, kind: super::operation::OperationKind) -> Option<&str> {
        use super::operation::OperationKind;
        match kind {
            OperationKind::Query => Some(&self.query_type),
            OperationKind::Mutation => self.mutation_type.as_deref(),
            OperationKind::Subscription => self.subscription_type.as_deref(),
        }
    }
}

/// The innermost named type of a type reference.
pub fn named_type(ty: &Type) -> &str {
    match ty {
        Type::NamedType(n) => n,
        Type::ListType(inner) | Type::NonNullType(inner) => named_type(inner),
    }
}

pub fn type_definition_name(def: &TypeDefinition) -> &str {
    match def {
        TypeDefinition::Scalar(t) => &t.name,
        TypeDefinition::Object(t) => &t.name,
        TypeDefinition::Interface(t) => &t.name,
        TypeDefinition::Union(t) => &t.name,
        TypeDefinition::Enum(t) => &t.name,
        TypeDefinition::InputObject(t) => &t.name,
    }
}

/// A type definition's name, directives and (objects and interfaces) fields.
pub fn type_parts(
    def: &TypeDefinition,
) -> (
    &str,
    &[graphql_tools::static_graphql::schema::Directive],
    Option<&[Field]>,
) {
    match def {
        TypeDefinition::Object(t) => (&t.name, &t.directives, Some(&t.fields)),
        TypeDefinition::Interface(t) => (&t.name, &t.directives, Some(&t.fields)),
        TypeDefinition::Scalar(t) => (&t.name, &t.directives, None),
        TypeDefinition::Enum(t) => (&t.name, &t.directives, None),
        TypeDefinition::Union(t) => (&t.name, &t.directives, None),
        TypeDefinition::InputObject(t) => (&t.name, &t.directives, None),
    }
}
