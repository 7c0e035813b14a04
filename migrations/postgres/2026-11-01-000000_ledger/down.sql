DROP TABLE ledger_cosignatures;
DROP TABLE ledger_checkpoints;
DROP TABLE ledger_head;
DROP TABLE ledger_nodes;
DROP TABLE ledger_payloads;
DROP TABLE ledger_entries;
