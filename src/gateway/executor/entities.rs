//! Entity representations: finding the objects a flatten path points at,
//! collecting each one's representation (see `representation`),
//! deduplicating them, and merging `_entities` results back in the same order.

use std::hash::BuildHasher;

use crate::gateway::data::{Data, Object};
use hive_router_query_planner::ast::selection_set::SelectionSet;
use hive_router_query_planner::planner::plan_nodes::FetchRewrite;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::merge::{deep_merge, deep_merge_ref};
use super::plan::PathStep;
use super::representation;
use crate::gateway::response::PathSegment;
use crate::gateway::schema_index::SchemaIndex;

fn condition_holds(map: &Object, types: &[String], schema: &SchemaIndex) -> bool {
    match map.typename() {
        Some(typename) => types.iter().any(|t| schema.satisfies(typename, t)),
        None => true,
    }
}

/// Visits, in document order, every object `path` leads to.
pub fn visit<'d>(
    value: &'d Data,
    path: &[PathStep],
    schema: &SchemaIndex,
    f: &mut dyn FnMut(&'d Object),
) {
    match value {
        Data::Array(items) => {
            let rest = match path.first() {
                Some(PathStep::List) => &path[1..],
                _ => path,
            };
            for item in items {
                visit(item, rest, schema, f);
            }
        }
        Data::Object(map) => match path.first() {
            None => f(map),
            Some(PathStep::Field(key)) => {
                if let Some(child) = map.get(key) {
                    visit(child, &path[1..], schema, f);
                }
            }
            Some(PathStep::List) => visit(value, &path[1..], schema, f),
            Some(PathStep::TypeCondition(types)) => {
                if condition_holds(map, types, schema) {
                    visit(value, &path[1..], schema, f);
                }
            }
        },
        _ => {}
    }
}

/// The same walk as [`visit`], mutably.
pub fn visit_mut(
    value: &mut Data,
    path: &[PathStep],
    schema: &SchemaIndex,
    f: &mut dyn FnMut(&mut Data),
) {
    match value {
        Data::Array(items) => {
            let rest = match path.first() {
                Some(PathStep::List) => &path[1..],
                _ => path,
            };
            for item in items {
                visit_mut(item, rest, schema, f);
            }
        }
        Data::Object(map) => match path.first() {
            None => f(value),
            Some(PathStep::Field(key)) => {
                if let Some(child) = map.get_mut(key) {
                    visit_mut(child, &path[1..], schema, f);
                }
            }
            Some(PathStep::List) => visit_mut(value, &path[1..], schema, f),
            Some(PathStep::TypeCondition(types)) => {
                if condition_holds(map, types, schema) {
                    visit_mut(value, &path[1..], schema, f);
                }
            }
        },
        _ => {}
    }
}

/// The response path of every object [`visit`] reaches, in the same order.
pub fn visit_paths(
    value: &Data,
    path: &[PathStep],
    schema: &SchemaIndex,
    current: &mut Vec<PathSegment>,
    out: &mut Vec<Vec<PathSegment>>,
) {
    match value {
        Data::Array(items) => {
            let rest = match path.first() {
                Some(PathStep::List) => &path[1..],
                _ => path,
            };
            for (index, item) in items.iter().enumerate() {
                current.push(PathSegment::Index(index));
                visit_paths(item, rest, schema, current, out);
                current.pop();
            }
        }
        Data::Object(map) => match path.first() {
            None => out.push(current.clone()),
            Some(PathStep::Field(key)) => {
                if let Some(child) = map.get(key) {
                    current.push(PathSegment::Key(key.clone()));
                    visit_paths(child, &path[1..], schema, current, out);
                    current.pop();
                }
            }
            Some(PathStep::List) => visit_paths(value, &path[1..], schema, current, out),
            Some(PathStep::TypeCondition(types)) => {
                if condition_holds(map, types, schema) {
                    visit_paths(value, &path[1..], schema, current, out);
                }
            }
        },
        _ => {}
    }
}

/// Deduplicated representations and, per visited object, which one it uses.
#[derive(Default)]
pub struct Representations {
    /// Each representation as JSON text.
    pub unique: Vec<Vec<u8>>,
    /// One entry per visited object, in visit order.
    pub slots: Vec<Option<usize>>,
    /// Position in `unique` by the hash of the text. The text is compared
    /// too, and a text whose hash is taken by another is only added, never
    /// indexed: colliding texts (even crafted ones) are merely sent twice,
    /// so a fast unkeyed hash is safe here.
    index: FxHashMap<u64, usize>,
}

impl Representations {
    /// Collects the representations of the objects at `paths`.
    pub fn collect(
        data: &Data,
        paths: &[Vec<PathStep>],
        requires: &SelectionSet,
        input_rewrites: &[FetchRewrite],
        schema: &SchemaIndex,
    ) -> Representations {
        let mut reps = Representations::default();
        let mut text = Vec::with_capacity(256);
        for path in paths {
            visit(data, path, schema, &mut |entity| {
                text.clear();
                let written =
                    representation::write(entity, requires, input_rewrites, schema, &mut text);
                let slot = written.then(|| reps.intern(&text));
                reps.slots.push(slot);
            });
        }
        reps
    }

    /// The position of `text` in `unique`, added when new.
    fn intern(&mut self, text: &[u8]) -> usize {
        let hash = FxBuildHasher.hash_one(text);
        let next = self.unique.len();
        match self.index.get(&hash) {
            Some(&known) if self.unique.get(known).is_some_and(|u| u == text) => return known,
            Some(_) => {}
            None => {
                self.index.insert(hash, next);
            }
        }
        self.unique.push(text.to_vec());
        next
    }

    pub fn is_empty(&self) -> bool {
        self.unique.is_empty()
    }

    /// Writes `[rep,rep,...]` into a request body.
    pub fn write_json_array(&self, body: &mut Vec<u8>) {
        body.push(b'[');
        for (i, rep) in self.unique.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(rep);
        }
        body.push(b']');
    }

    /// Merges `results[i]` into every object that sent representation `i`
    /// (moved into its last user, copied from for the others).
    pub fn merge_back(
        &self,
        data: &mut Data,
        paths: &[Vec<PathStep>],
        mut results: Vec<Data>,
        schema: &SchemaIndex,
    ) {
        let mut remaining = vec![0usize; results.len()];
        for i in self.slots.iter().flatten() {
            if let Some(n) = remaining.get_mut(*i) {
                *n += 1;
            }
        }
        let mut counter = 0usize;
        for path in paths {
            visit_mut(data, path, schema, &mut |entity| {
                let slot = self.slots.get(counter).copied().flatten();
                counter += 1;
                let Some(i) = slot else { return };
                let (Some(result), Some(left)) = (results.get_mut(i), remaining.get_mut(i)) else {
                    return;
                };
                *left -= 1;
                if result.is_object() {
                    if *left == 0 {
                        deep_merge(entity, std::mem::take(result), schema);
                    } else {
                        deep_merge_ref(entity, result, schema);
                    }
                }
            });
        }
    }

    /// The response path of the first object that sent representation `index`.
    pub fn path_of(
        &self,
        data: &Data,
        paths: &[Vec<PathStep>],
        index: usize,
        schema: &SchemaIndex,
    ) -> Option<Vec<PathSegment>> {
        let position = self.slots.iter().position(|s| *s == Some(index))?;
        let mut all = Vec::new();
        for path in paths {
            visit_paths(data, path, schema, &mut Vec::new(), &mut all);
        }
        all.into_iter().nth(position)
    }
}
