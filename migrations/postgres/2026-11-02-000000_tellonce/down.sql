DROP TABLE tellonce_outbox;
DROP TABLE tellonce_events;
