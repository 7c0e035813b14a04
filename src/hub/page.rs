//! One paging rule for every connection the hub serves (`lifeEventFeed`,
//! `deadLetters`, `ledgerEntries`, `consignments`, `agencyWorklist`): `first`
//! is 1 to [`MAX_PAGE`] and [`DEFAULT_PAGE`] when not given, so a client
//! learns it once.

use async_graphql::ErrorExtensions;

use crate::error_code::ErrorCode;

/// Items per page when `first` is not given.
pub const DEFAULT_PAGE: i64 = 50;
/// The most items one page may hold.
pub const MAX_PAGE: i64 = 500;

/// The page size `first` asks for, or a `BAD_USER_INPUT` error naming the rule.
pub(super) fn page_size(first: Option<i64>) -> async_graphql::Result<usize> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(async_graphql::Error::new(format!(
            "first must be 1 to {MAX_PAGE}, not {first}"
        ))
        .extend_with(|_, e| {
            e.set("code", ErrorCode::BadUserInput.as_str());
            e.set("field", "first");
        }));
    }
    Ok(first as usize)
}
