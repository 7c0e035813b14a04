//! How many operations a principal may have open at once over the streaming
//! transports, across all its connections: counted before a subscription
//! starts, released when it ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Open operations per principal.
#[derive(Debug)]
pub struct SubscriptionLimits {
    per_principal: usize,
    open: Mutex<HashMap<String, usize>>,
}

/// Most operations one principal may have open.
pub const MAX_PER_PRINCIPAL: usize = 1000;

/// Most operations one connection may have open.
pub const MAX_PER_CONNECTION: usize = 100;

impl Default for SubscriptionLimits {
    fn default() -> Self {
        SubscriptionLimits {
            per_principal: MAX_PER_PRINCIPAL,
            open: Mutex::new(HashMap::new()),
        }
    }
}

/// One open operation; dropping it releases its place.
#[derive(Debug)]
pub struct SubscriptionPlace {
    limits: Arc<SubscriptionLimits>,
    principal: String,
    /// Counted in the open-subscriptions metric while the place is held.
    _open: crate::telemetry::measure::OpenSubscription,
}

impl SubscriptionLimits {
    /// Takes a place for `principal` on `transport` (`websocket`, `sse`,
    /// `multipart`), or `None` when it has as many open as it may.
    pub fn take(
        self: &Arc<Self>,
        principal: &str,
        transport: &'static str,
    ) -> Option<SubscriptionPlace> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(principal.to_string()).or_insert(0);
        if *count >= self.per_principal {
            crate::telemetry::measure::refused("subscriptions_per_principal");
            return None;
        }
        *count += 1;
        Some(SubscriptionPlace {
            limits: self.clone(),
            principal: principal.to_string(),
            _open: crate::telemetry::measure::subscription_opened(transport),
        })
    }

    pub fn limit(&self) -> usize {
        self.per_principal
    }
}

impl Drop for SubscriptionPlace {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.principal) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.principal);
            }
        }
    }
}
