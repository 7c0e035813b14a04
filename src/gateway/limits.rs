//! Request limits: what no request may exceed, and the counting that
//! enforces them before any expensive work.
//!
//! Two passes, both linear in the document's size. [`scan`] runs over the
//! raw text before parsing (tokens and bracket nesting, so the parser never
//! sees a document it would spend long on). [`measure`] runs over the parsed
//! document before validation and planning: it sizes the operation *as if*
//! every fragment were expanded, without expanding anything, by computing
//! each fragment's totals once and multiplying (ten fragments that each
//! spread the one before ten times describe 10¹⁰ fields in under a kilobyte;
//! they cost ten sums here). The cost model is the demand-control one:
//! `@cost(weight:)` on a field or its type, `@listSize(assumedSize:,
//! slicingArguments:)` on list fields, composite fields weigh 1 and leaf
//! fields 0 unless a directive says otherwise.

use std::collections::HashMap;

use graphql_tools::static_graphql::query::{
    Definition, Document, FragmentDefinition, OperationDefinition, Selection, SelectionSet,
    TypeCondition, Value,
};
use graphql_tools::static_graphql::schema::{
    Definition as SchemaDefinition, Directive as SchemaDirective, Document as SchemaDocument,
    Value as SchemaValue,
};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::response::GraphQLError;
use super::schema_index::{named_type, type_parts, SchemaIndex, TypeKind};
use crate::error_code::ErrorCode;

/// The `[limits]` section: every limit is on by default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestLimits {
    /// Lexical tokens in the document.
    pub max_tokens: u64,
    /// Fields nested inside one another, fragments expanded.
    pub max_depth: u64,
    /// Aliased fields, fragments expanded.
    pub max_aliases: u64,
    /// Fields at the root of the operation, fragments expanded.
    pub max_root_fields: u64,
    /// Directives on any one field, fragment or operation.
    pub max_directives_per_field: u64,
    /// Fragment spreads, counted as if every fragment were expanded.
    pub max_fragment_spreads: u64,
    /// Fields, counted as if every fragment were expanded.
    pub max_fields: u64,
    /// Fields with one response name in one selection set (validation
    /// compares them pairwise).
    pub max_repeated_fields: u64,
    /// Estimated cost (demand control), reported in `extensions.cost`.
    pub max_cost: u64,
    /// The size assumed for a list field with no `@listSize` and no slicing argument.
    pub default_list_size: u64,
    /// Operations in one batch request.
    pub max_batch: u64,
    /// Longest a request may take from decoding to answer, in milliseconds.
    pub request_timeout_ms: u64,
    /// Longest validation and planning of a new document may take, in milliseconds.
    pub prepare_timeout_ms: u64,
    /// Whether `__schema` and `__type` may be asked.
    pub introspection: bool,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_tokens: 15_000,
            max_depth: 15,
            max_aliases: 30,
            max_root_fields: 20,
            max_directives_per_field: 5,
            max_fragment_spreads: 500,
            max_fields: 2_000,
            max_repeated_fields: 20,
            max_cost: 10_000,
            default_list_size: 10,
            max_batch: 10,
            request_timeout_ms: 30_000,
            prepare_timeout_ms: 2_000,
            introspection: false,
        }
    }
}

impl RequestLimits {
    /// No limit at all (for trusted internal callers and benchmarks of the
    /// pipeline without them).
    pub fn unlimited() -> Self {
        RequestLimits {
            max_tokens: u64::MAX,
            max_depth: u64::MAX,
            max_aliases: u64::MAX,
            max_root_fields: u64::MAX,
            max_directives_per_field: u64::MAX,
            max_fragment_spreads: u64::MAX,
            max_fields: u64::MAX,
            max_repeated_fields: u64::MAX,
            max_cost: u64::MAX,
            default_list_size: 10,
            max_batch: u64::MAX,
            request_timeout_ms: 3_600_000,
            prepare_timeout_ms: 3_600_000,
            introspection: true,
        }
    }

    /// Bracket nesting the scanner lets through: deeper than any operation
    /// within `max_depth` needs (selection sets plus argument values), far
    /// below the parser's recursion.
    fn max_nesting(&self) -> u64 {
        self.max_depth.saturating_mul(2).saturating_add(8).min(64)
    }
}

/// A request over a limit, or a document that cannot be measured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("the document has more than {max} tokens (limit max_tokens)")]
    Tokens { max: u64 },
    #[error("the document nests brackets deeper than {max} levels (limit max_depth)")]
    Nesting { max: u64 },
    #[error("the operation is {actual} fields deep; the limit is {max} (limit max_depth)")]
    Depth { actual: u64, max: u64 },
    #[error("the operation has {actual} aliases; the limit is {max} (limit max_aliases)")]
    Aliases { actual: u64, max: u64 },
    #[error("the operation has {actual} root fields; the limit is {max} (limit max_root_fields)")]
    RootFields { actual: u64, max: u64 },
    #[error("`{at}` has {actual} directives; the limit is {max} (limit max_directives_per_field)")]
    Directives { at: String, actual: u64, max: u64 },
    #[error("the operation expands to {actual} fragment spreads; the limit is {max} (limit max_fragment_spreads)")]
    FragmentSpreads { actual: u64, max: u64 },
    #[error("the operation expands to {actual} fields; the limit is {max} (limit max_fields)")]
    Fields { actual: u64, max: u64 },
    #[error("the operation's estimated cost is {actual}; the limit is {max} (limit max_cost)")]
    Cost { actual: u64, max: u64 },
    #[error("`{name}` is asked for more than {max} times in one selection set (limit max_repeated_fields)")]
    RepeatedFields { name: String, max: u64 },
    #[error("the batch has {actual} operations; the limit is {max} (limit max_batch)")]
    Batch { actual: u64, max: u64 },
    #[error("introspection is disabled on this hub (limit introspection)")]
    Introspection,
    #[error("fragment `{0}` spreads itself")]
    FragmentCycle(String),
    #[error("an argument of `{0}` holds a control character, which is not accepted")]
    ControlCharacter(String),
    #[error("unknown fragment `{0}`")]
    UnknownFragment(String),
}

impl LimitError {
    /// The limit's name in the configuration, for `extensions.limit`.
    pub fn limit(&self) -> Option<&'static str> {
        Some(match self {
            LimitError::Tokens { .. } => "max_tokens",
            LimitError::Nesting { .. } | LimitError::Depth { .. } => "max_depth",
            LimitError::Aliases { .. } => "max_aliases",
            LimitError::RootFields { .. } => "max_root_fields",
            LimitError::Directives { .. } => "max_directives_per_field",
            LimitError::FragmentSpreads { .. } => "max_fragment_spreads",
            LimitError::Fields { .. } => "max_fields",
            LimitError::RepeatedFields { .. } => "max_repeated_fields",
            LimitError::Cost { .. } => "max_cost",
            LimitError::Batch { .. } => "max_batch",
            LimitError::Introspection => "introspection",
            LimitError::FragmentCycle(_)
            | LimitError::UnknownFragment(_)
            | LimitError::ControlCharacter(_) => return None,
        })
    }

    fn max(&self) -> Option<u64> {
        match self {
            LimitError::Tokens { max }
            | LimitError::Nesting { max }
            | LimitError::Depth { max, .. }
            | LimitError::Aliases { max, .. }
            | LimitError::RootFields { max, .. }
            | LimitError::Directives { max, .. }
            | LimitError::FragmentSpreads { max, .. }
            | LimitError::Fields { max, .. }
            | LimitError::Cost { max, .. }
            | LimitError::RepeatedFields { max, .. }
            | LimitError::Batch { max, .. } => Some(*max),
            _ => None,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            LimitError::ControlCharacter(_) => ErrorCode::BadUserInput,
            LimitError::FragmentCycle(_) | LimitError::UnknownFragment(_) => {
                ErrorCode::GraphqlValidationFailed
            }
            _ => ErrorCode::QueryTooComplex,
        }
    }

    /// The GraphQL error, naming the limit and its value in `extensions`.
    pub fn to_graphql(&self) -> GraphQLError {
        let mut error = GraphQLError::new(self.to_string(), self.code());
        if let Some(limit) = self.limit() {
            crate::telemetry::measure::refused(limit);
            error.extensions.insert("limit".into(), Json::from(limit));
        }
        if let Some(max) = self.max() {
            error.extensions.insert("max".into(), Json::from(max));
        }
        error
    }
}

/// Counts tokens and bracket nesting of a document's text without parsing
/// it: one pass, no allocation. Strings and comments are skipped as the
/// GraphQL lexer would; a malformed string is left for the parser to name.
pub fn scan(text: &str, limits: &RequestLimits) -> Result<(), LimitError> {
    let bytes = text.as_bytes();
    let max_nesting = limits.max_nesting();
    let (mut i, mut tokens, mut nesting) = (0usize, 0u64, 0u64);
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' => i = skip_string(bytes, i),
            b'{' | b'(' | b'[' => {
                nesting += 1;
                if nesting > max_nesting {
                    return Err(LimitError::Nesting {
                        max: limits.max_depth,
                    });
                }
                i += 1;
            }
            b'}' | b')' | b']' => {
                nesting = nesting.saturating_sub(1);
                i += 1;
            }
            b'.' if bytes.get(i..i + 3) == Some(b"...") => i += 3,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => {
                i += 1;
                while i < bytes.len()
                    && matches!(bytes[i], b'_' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'+' | b'-')
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
        tokens += 1;
        if tokens > limits.max_tokens {
            return Err(LimitError::Tokens {
                max: limits.max_tokens,
            });
        }
    }
    Ok(())
}

/// The index just past the string starting at `start` (a `"` or `"""`).
fn skip_string(bytes: &[u8], start: usize) -> usize {
    if bytes.get(start..start + 3) == Some(b"\"\"\"") {
        let mut i = start + 3;
        while i < bytes.len() {
            if bytes[i] == b'\\' && bytes.get(i + 1..i + 4) == Some(b"\"\"\"") {
                i += 4;
            } else if bytes.get(i..i + 3) == Some(b"\"\"\"") {
                return i + 3;
            } else {
                i += 1;
            }
        }
        return bytes.len();
    }
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' | b'\r' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Per field or type: the weight and list size the schema declares.
#[derive(Debug, Default)]
pub struct CostModel {
    type_weights: HashMap<String, u64>,
    field_weights: HashMap<(String, String), u64>,
    list_sizes: HashMap<(String, String), ListSize>,
}

#[derive(Debug, Default, Clone)]
struct ListSize {
    assumed: Option<u64>,
    slicing_arguments: Vec<String>,
}

impl CostModel {
    /// Reads `@cost` and `@listSize` from a (super)graph schema.
    pub fn from_schema(document: &SchemaDocument) -> CostModel {
        let mut model = CostModel::default();
        for definition in &document.definitions {
            let SchemaDefinition::TypeDefinition(definition) = definition else {
                continue;
            };
            let (name, directives, fields) = type_parts(definition);
            let name = name.to_string();
            if let Some(weight) = cost_weight(directives) {
                model.type_weights.insert(name.clone(), weight);
            }
            for field in fields.into_iter().flatten() {
                let key = (name.clone(), field.name.clone());
                if let Some(weight) = cost_weight(&field.directives) {
                    model.field_weights.insert(key.clone(), weight);
                }
                if let Some(size) = list_size(&field.directives) {
                    model.list_sizes.insert(key, size);
                }
            }
        }
        model
    }
}

fn cost_weight(directives: &[SchemaDirective]) -> Option<u64> {
    let directive = directives.iter().find(|d| d.name == "cost")?;
    directive
        .arguments
        .iter()
        .find_map(|(name, value)| (name == "weight").then(|| schema_int(value)).flatten())
}

fn list_size(directives: &[SchemaDirective]) -> Option<ListSize> {
    let directive = directives.iter().find(|d| d.name == "listSize")?;
    let mut size = ListSize::default();
    for (name, value) in &directive.arguments {
        match (name.as_str(), value) {
            ("assumedSize", value) => size.assumed = schema_int(value),
            ("slicingArguments", SchemaValue::List(items)) => {
                size.slicing_arguments = items
                    .iter()
                    .filter_map(|item| match item {
                        SchemaValue::String(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect()
            }
            _ => {}
        }
    }
    Some(size)
}

fn schema_int(value: &SchemaValue) -> Option<u64> {
    match value {
        SchemaValue::Int(n) => n.as_i64().and_then(|n| u64::try_from(n).ok()),
        SchemaValue::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The size of an operation as if its fragments were expanded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measure {
    pub depth: u64,
    pub fields: u64,
    pub aliases: u64,
    pub spreads: u64,
    pub cost: u64,
    pub root_fields: u64,
    /// Whether `__schema` or `__type` is asked anywhere.
    pub introspection: bool,
}

impl Measure {
    fn add(&mut self, other: &Measure) {
        self.depth = self.depth.max(other.depth);
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.spreads = self.spreads.saturating_add(other.spreads);
        self.cost = self.cost.saturating_add(other.cost);
        self.root_fields = self.root_fields.saturating_add(other.root_fields);
        self.introspection |= other.introspection;
    }

    /// Refuses the first limit this measure is over.
    pub fn check(&self, limits: &RequestLimits) -> Result<(), LimitError> {
        let over = |actual: u64, max: u64| actual > max;
        if self.introspection && !limits.introspection {
            return Err(LimitError::Introspection);
        }
        if over(self.depth, limits.max_depth) {
            return Err(LimitError::Depth {
                actual: self.depth,
                max: limits.max_depth,
            });
        }
        if over(self.root_fields, limits.max_root_fields) {
            return Err(LimitError::RootFields {
                actual: self.root_fields,
                max: limits.max_root_fields,
            });
        }
        if over(self.aliases, limits.max_aliases) {
            return Err(LimitError::Aliases {
                actual: self.aliases,
                max: limits.max_aliases,
            });
        }
        if over(self.spreads, limits.max_fragment_spreads) {
            return Err(LimitError::FragmentSpreads {
                actual: self.spreads,
                max: limits.max_fragment_spreads,
            });
        }
        if over(self.fields, limits.max_fields) {
            return Err(LimitError::Fields {
                actual: self.fields,
                max: limits.max_fields,
            });
        }
        if over(self.cost, limits.max_cost) {
            return Err(LimitError::Cost {
                actual: self.cost,
                max: limits.max_cost,
            });
        }
        Ok(())
    }
}

/// Measures the operation whose selection set is `root` (of type
/// `root_type`) in `document`, and checks the limits that need no expansion
/// on the way (directives per field, introspection).
pub fn measure(
    document: &Document,
    root: &SelectionSet,
    root_type: &str,
    schema: &SchemaIndex,
    costs: &CostModel,
    limits: &RequestLimits,
) -> Result<Measure, LimitError> {
    let fragments = super::operation::fragments_by_name(document);
    let mut walker = Walker {
        fragments,
        memo: HashMap::new(),
        schema,
        costs,
        limits,
    };
    let mut measure = walker.selection_set(root, root_type)?;
    measure.root_fields = walker.root_fields(root, 0)?;
    // Validation reads the whole document, not only the operation that
    // runs: every other operation and every fragment, used or not, is held
    // to the same limits (each fragment is measured once, memoized).
    for definition in &document.definitions {
        match definition {
            Definition::Fragment(fragment) => {
                walker.fragment(&fragment.name)?.check(limits)?;
            }
            Definition::Operation(op) => {
                let set = match op {
                    OperationDefinition::SelectionSet(s) => s,
                    OperationDefinition::Query(q) => &q.selection_set,
                    OperationDefinition::Mutation(m) => &m.selection_set,
                    OperationDefinition::Subscription(s) => &s.selection_set,
                };
                if !std::ptr::eq(set, root) {
                    let mut other = walker.selection_set(set, "")?;
                    other.introspection = false;
                    other.check(limits)?;
                }
            }
        }
    }
    Ok(measure)
}

enum Memo {
    InProgress,
    Done(Measure),
}

struct Walker<'d> {
    fragments: HashMap<&'d str, &'d FragmentDefinition>,
    memo: HashMap<&'d str, Memo>,
    schema: &'d SchemaIndex,
    costs: &'d CostModel,
    limits: &'d RequestLimits,
}

impl<'d> Walker<'d> {
    fn directives(&self, at: &str, count: usize) -> Result<(), LimitError> {
        let count = count as u64;
        if count > self.limits.max_directives_per_field {
            return Err(LimitError::Directives {
                at: at.to_string(),
                actual: count,
                max: self.limits.max_directives_per_field,
            });
        }
        Ok(())
    }

    /// Refuses a selection set that repeats one response name too often.
    fn repeated(&self, set: &SelectionSet) -> Result<(), LimitError> {
        let max = self.limits.max_repeated_fields;
        if (set.items.len() as u64) <= max {
            return Ok(());
        }
        let mut counts: HashMap<&str, u64> = HashMap::new();
        for item in &set.items {
            if let Selection::Field(field) = item {
                let key = field.alias.as_deref().unwrap_or(&field.name);
                let count = counts.entry(key).or_insert(0);
                *count += 1;
                if *count > max {
                    return Err(LimitError::RepeatedFields {
                        name: key.to_string(),
                        max,
                    });
                }
            }
        }
        Ok(())
    }

    fn fragment(&mut self, name: &'d str) -> Result<Measure, LimitError> {
        match self.memo.get(name) {
            Some(Memo::Done(measure)) => return Ok(*measure),
            Some(Memo::InProgress) => return Err(LimitError::FragmentCycle(name.to_string())),
            None => {}
        }
        let fragment = *self
            .fragments
            .get(name)
            .ok_or_else(|| LimitError::UnknownFragment(name.to_string()))?;
        self.memo.insert(name, Memo::InProgress);
        self.directives(&fragment.name, fragment.directives.len())?;
        let TypeCondition::On(on) = &fragment.type_condition;
        let measure = self.selection_set(&fragment.selection_set, on)?;
        self.memo.insert(name, Memo::Done(measure));
        Ok(measure)
    }

    fn selection_set(
        &mut self,
        set: &'d SelectionSet,
        parent: &str,
    ) -> Result<Measure, LimitError> {
        self.repeated(set)?;
        let mut total = Measure::default();
        for item in &set.items {
            match item {
                Selection::Field(field) => {
                    self.directives(&field.name, field.directives.len())?;
                    if field.arguments.iter().any(|(_, v)| has_control(v)) {
                        return Err(LimitError::ControlCharacter(field.name.clone()));
                    }
                    let introspection = field.name == "__schema" || field.name == "__type";
                    let declared = self.schema.field_type(parent, &field.name);
                    let child_type = declared.map(named_type).unwrap_or("");
                    let composite = matches!(
                        self.schema.kind(child_type),
                        Some(TypeKind::Object | TypeKind::Interface | TypeKind::Union)
                    );
                    let key = (parent.to_string(), field.name.clone());
                    let weight = self
                        .costs
                        .field_weights
                        .get(&key)
                        .or_else(|| self.costs.type_weights.get(child_type))
                        .copied()
                        .unwrap_or(u64::from(composite || declared.is_none()));
                    let child = if field.selection_set.items.is_empty() {
                        Measure::default()
                    } else {
                        self.selection_set(&field.selection_set, child_type)?
                    };
                    let multiplier = match declared {
                        Some(ty) if is_list(ty) => self.list_multiplier(&key, &field.arguments),
                        _ => 1,
                    };
                    total.add(&Measure {
                        depth: child.depth + 1,
                        fields: child.fields.saturating_add(1),
                        aliases: child
                            .aliases
                            .saturating_add(u64::from(field.alias.is_some())),
                        spreads: child.spreads,
                        cost: weight.saturating_add(multiplier.saturating_mul(child.cost)),
                        root_fields: 0,
                        introspection: introspection || child.introspection,
                    });
                }
                Selection::InlineFragment(inline) => {
                    self.directives("inline fragment", inline.directives.len())?;
                    let on = match &inline.type_condition {
                        Some(TypeCondition::On(on)) => on.as_str(),
                        None => parent,
                    };
                    let inner = self.selection_set(&inline.selection_set, on)?;
                    total.add(&inner);
                }
                Selection::FragmentSpread(spread) => {
                    self.directives(&spread.fragment_name, spread.directives.len())?;
                    let mut inner = self.fragment(&spread.fragment_name)?;
                    inner.spreads = inner.spreads.saturating_add(1);
                    total.add(&inner);
                }
            }
            // Totals only grow: stop as soon as one is over its limit.
            total.check(self.limits)?;
        }
        Ok(total)
    }

    /// Fields at the root, through fragments (each fragment counted once per spread).
    fn root_fields(&self, set: &'d SelectionSet, depth: usize) -> Result<u64, LimitError> {
        let mut count = 0u64;
        for item in &set.items {
            count = count.saturating_add(match item {
                Selection::Field(_) => 1,
                Selection::InlineFragment(inline) => {
                    self.root_fields(&inline.selection_set, depth + 1)?
                }
                Selection::FragmentSpread(spread) => {
                    // Cycles were refused by the measure; the depth guard is
                    // only a backstop.
                    if depth > 64 {
                        return Err(LimitError::FragmentCycle(spread.fragment_name.clone()));
                    }
                    match self.fragments.get(spread.fragment_name.as_str()) {
                        Some(fragment) => self.root_fields(&fragment.selection_set, depth + 1)?,
                        None => 0,
                    }
                }
            });
            if count > self.limits.max_root_fields {
                return Err(LimitError::RootFields {
                    actual: count,
                    max: self.limits.max_root_fields,
                });
            }
        }
        Ok(count)
    }

    fn list_multiplier(&self, key: &(String, String), arguments: &[(String, Value)]) -> u64 {
        let size = self.costs.list_sizes.get(key);
        if let Some(size) = size {
            let sliced = size
                .slicing_arguments
                .iter()
                .filter_map(|name| {
                    arguments.iter().find_map(|(arg, value)| match value {
                        Value::Int(n) if arg == name => {
                            n.as_i64().and_then(|n| u64::try_from(n).ok())
                        }
                        _ => None,
                    })
                })
                .max();
            if let Some(sliced) = sliced.or(size.assumed) {
                return sliced;
            }
        }
        // `first:`/`last:` slice a connection even without `@listSize`.
        arguments
            .iter()
            .find_map(|(arg, value)| match value {
                Value::Int(n) if arg == "first" || arg == "last" => {
                    n.as_i64().and_then(|n| u64::try_from(n).ok())
                }
                _ => None,
            })
            .unwrap_or(self.limits.default_list_size)
    }
}

fn has_control(value: &Value) -> bool {
    match value {
        Value::String(s) => s
            .chars()
            .any(|c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')),
        Value::List(items) => items.iter().any(has_control),
        Value::Object(fields) => fields.iter().any(|(_, v)| has_control(v)),
        _ => false,
    }
}

fn is_list(ty: &graphql_tools::static_graphql::schema::Type) -> bool {
    use graphql_tools::static_graphql::schema::Type;
    match ty {
        Type::ListType(_) => true,
        Type::NonNullType(inner) => is_list(inner),
        Type::NamedType(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_counts_tokens_and_skips_strings_and_comments() {
        let limits = RequestLimits {
            max_tokens: 6,
            ..RequestLimits::default()
        };
        // { a(b: "x { y } z") # { { {
        // }  → { a ( b : "…" ) } = 8 tokens
        let text = "{ a(b: \"x { y } z\") # { { {\n }";
        assert_eq!(scan(text, &limits), Err(LimitError::Tokens { max: 6 }));
        let limits = RequestLimits {
            max_tokens: 8,
            ..RequestLimits::default()
        };
        assert_eq!(scan(text, &limits), Ok(()));
        assert_eq!(scan("\"\"\"a \\\"\"\" { \"\"\" x", &limits), Ok(()));
    }

    #[test]
    fn scan_refuses_deep_nesting_before_parsing() {
        let text = "{a".repeat(1000) + &"}".repeat(1000);
        assert!(matches!(
            scan(&text, &RequestLimits::default()),
            Err(LimitError::Nesting { .. })
        ));
    }
}
