//! Life-event input decoding and validation (src/tellonce/event.rs): the
//! input is parsed as JSON, turned into an `async_graphql::Value` (as the
//! hub's `tellUsOnce(event: LifeEventInput!)` argument arrives), decoded
//! with `InputType::parse` into the `@oneOf` `LifeEventInput`, then
//! `validate`d. A validated event's canonical fields, sent again as a
//! `LifeEventInput`, must decode, validate, and give the same fields,
//! subject and content hash (validation is idempotent).
#![no_main]

use async_graphql::{InputType, Value};
use libfuzzer_sys::fuzz_target;
use tellonce::tellonce::{LifeEvent, LifeEventInput};

fn decode(json: serde_json::Value) -> Option<LifeEventInput> {
    let value = Value::from_json(json).ok()?;
    <LifeEventInput as InputType>::parse(Some(value)).ok()
}

fn check(event: &LifeEvent) {
    let again = serde_json::json!({ event.event_type.input_field(): event.fields.clone() });
    let input = decode(again.clone())
        .unwrap_or_else(|| panic!("the canonical form does not decode as a LifeEventInput: {again}"));
    let second = input
        .validate()
        .unwrap_or_else(|e| panic!("the canonical form does not validate ({e}): {again}"));
    assert_eq!(second.event_type, event.event_type);
    assert_eq!(second.fields, event.fields, "validation is not idempotent");
    assert_eq!(second.subject, event.subject);
    assert_eq!(second.content_hash(), event.content_hash());
}

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    // The argument itself, or a request's `variables` holding it as `event`.
    let candidates = [Some(json.clone()), json.get("event").cloned()];
    for json in candidates.into_iter().flatten() {
        let Some(input) = decode(json) else { continue };
        let Ok(event) = input.validate() else { continue };
        assert!(event.fields.is_object());
        assert!(!event.subject.value.is_empty());
        let _ = event.subject.ledger_identifier();
        check(&event);
    }
});
