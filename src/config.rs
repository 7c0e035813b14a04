//! One typed configuration: `tellonce.toml` plus `TELLONCE_*` environment overrides.
