//! The one rule for the idempotency keys the hub's mutations take.

/// Longest idempotency key accepted, in characters.
pub const MAX_KEY_CHARS: usize = 200;

/// Why `key` cannot be an idempotency key, if it cannot.
pub fn refusal(key: &str) -> Option<String> {
    (key.trim().is_empty() || key.chars().count() > MAX_KEY_CHARS)
        .then(|| format!("idempotencyKey must be 1 to {MAX_KEY_CHARS} characters"))
}
