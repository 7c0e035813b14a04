//! Storage: diesel over SQLite and PostgreSQL with one code path.
