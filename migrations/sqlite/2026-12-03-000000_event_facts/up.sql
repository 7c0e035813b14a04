-- Keyed hashes of each fact of a life event (a JSON object: field name to
-- HMAC, hex), so that a second report of a once-only event (a death, a
-- business registered or ceased) with other facts is refused naming the
-- field that differs, without keeping the facts themselves.
ALTER TABLE tellonce_events ADD COLUMN fact_hashes TEXT NOT NULL DEFAULT '{}';
CREATE INDEX tellonce_events_subject ON tellonce_events (subject_value, event_type);
