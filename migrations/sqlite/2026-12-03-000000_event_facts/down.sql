DROP INDEX tellonce_events_subject;
ALTER TABLE tellonce_events DROP COLUMN fact_hashes;
