//! Per-principal rate limits: one token bucket per principal, and one per
//! client IP for anonymous callers.
//!
//! This module owns the limiter and its state. Both backends run the same
//! algorithm, GCRA (the generic cell rate algorithm, as `governor` does): a
//! bucket is one "theoretical arrival time" per key, so a check is one read and
//! one write whatever the burst.
//!
//! - **In process** (`redis_url` unset): `governor`'s keyed limiter. Its store
//!   grows with keys, so every [`RETAIN_EVERY`] checks the keys whose bucket is
//!   full again are dropped, and if more than [`MAX_IN_PROCESS_KEYS`] are still
//!   live (many callers at once, e.g. a flood from many addresses) the
//!   store is started afresh: memory stays bounded at the cost of one extra
//!   burst for the callers of that moment.
//! - **Redis** (`redis_url` set): a Lua script does the GCRA step atomically,
//!   with Redis's own clock (`TIME`), so every hub instance shares one budget
//!   per principal whatever their clocks say. Each key expires when its bucket
//!   is full again, so Redis holds only the callers of the last burst period.
//!   When Redis does not answer, a check is an error
//!   ([`RateLimitError::RedisUnavailable`], [`RateLimitError::RedisTimeout`]),
//!   never a silent pass.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};

/// Prefix of every key this module writes in Redis.
pub const REDIS_KEY_PREFIX: &str = "tellonce:rl:";
/// The in-process store drops keys whose bucket is full again once every this many checks.
pub const RETAIN_EVERY: u64 = 4096;
/// Live keys above which the in-process store (one for principals, one for
/// anonymous callers) is started afresh.
pub const MAX_IN_PROCESS_KEYS: usize = 100_000;
/// The highest rate a bucket can have: the Redis script counts in microseconds.
pub const MAX_REQUESTS_PER_SECOND: u32 = 1_000_000;
/// How long one check may wait for Redis before it is an error.
pub const REDIS_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// `[rate_limit]` in `tellonce.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// `false` lets every request through.
    pub enabled: bool,
    /// Sustained rate per principal.
    pub requests_per_second: u32,
    /// Requests a principal may make at once after being idle.
    pub burst: u32,
    /// Sustained rate per client IP for anonymous callers (they share one bucket per IP).
    pub anonymous_requests_per_second: u32,
    /// Burst per client IP for anonymous callers.
    pub anonymous_burst: u32,
    /// `redis://host:port/db`: share the budgets between hub instances. `None`: in process.
    pub redis_url: Option<String>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            requests_per_second: 50,
            burst: 100,
            anonymous_requests_per_second: 10,
            anonymous_burst: 20,
            redis_url: None,
        }
    }
}

/// A request over its budget: the caller answers `RATE_LIMITED` (HTTP 429)
/// with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// How long until one more request of this key would be let through (never zero).
    pub retry_after: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    /// The one error a check returns in the normal course: over budget.
    #[error("rate limit reached: retry after {} ms", .0.retry_after.as_millis())]
    Limited(Refusal),
    #[error(
        "rate_limit.{field} is {value}: it must be between 1 and {max} \
         (or set rate_limit.enabled = false to turn rate limits off)"
    )]
    InvalidLimit {
        field: &'static str,
        value: u32,
        max: u32,
    },
    #[error(
        "rate_limit.redis_url is not a Redis URL ({source}): write it as redis://host:port/db, \
         or leave it out to keep rate limits in process"
    )]
    RedisUrl {
        #[source]
        source: redis::RedisError,
    },
    #[error(
        "cannot connect to the Redis in rate_limit.redis_url ({source}): start Redis or fix the \
         URL, or leave it out to keep rate limits in process"
    )]
    RedisConnect {
        #[source]
        source: redis::RedisError,
    },
    /// Redis failed during a check: the request must be refused (HTTP 503), not let through.
    #[error(
        "the rate-limit store (Redis) failed ({source}): requests are refused until it answers; \
         check that Redis is running and reachable"
    )]
    RedisUnavailable {
        #[source]
        source: redis::RedisError,
    },
    /// Redis did not answer a check in time: refuse the request (HTTP 503).
    #[error(
        "the rate-limit store (Redis) did not answer within {} ms: requests are refused until it \
         answers; check that Redis is running and not overloaded",
        .after.as_millis()
    )]
    RedisTimeout { after: Duration },
}

impl RateLimitError {
    /// `true` for the errors that mean "the limiter could not decide" (answer
    /// 503), as opposed to [`RateLimitError::Limited`] (answer 429).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            RateLimitError::RedisUnavailable { .. } | RateLimitError::RedisTimeout { .. }
        )
    }
}

/// Per-principal token buckets. Cheap to share behind an `Arc`.
pub struct RateLimiter {
    backend: Backend,
}

enum Backend {
    Disabled,
    InProcess {
        principals: InProcessBuckets,
        anonymous: InProcessBuckets,
    },
    Redis(RedisBuckets),
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match &self.backend {
            Backend::Disabled => "disabled",
            Backend::InProcess { .. } => "in process",
            Backend::Redis(_) => "redis",
        };
        f.debug_struct("RateLimiter")
            .field("backend", &backend)
            .finish()
    }
}

impl RateLimiter {
    /// Builds the limiter `config` describes; with `redis_url`, connects to Redis
    /// (an error if it cannot be reached now).
    pub async fn connect(config: &RateLimitConfig) -> Result<RateLimiter, RateLimitError> {
        if !config.enabled {
            return Ok(RateLimiter {
                backend: Backend::Disabled,
            });
        }
        let principals = Limits::new(
            ("requests_per_second", config.requests_per_second),
            ("burst", config.burst),
        )?;
        let anonymous = Limits::new(
            (
                "anonymous_requests_per_second",
                config.anonymous_requests_per_second,
            ),
            ("anonymous_burst", config.anonymous_burst),
        )?;
        let backend = match &config.redis_url {
            None => Backend::InProcess {
                principals: InProcessBuckets::new(principals.quota()),
                anonymous: InProcessBuckets::new(anonymous.quota()),
            },
            Some(url) => {
                let buckets = RedisBuckets::lazy(url, principals, anonymous)?;
                buckets.ping().await?;
                Backend::Redis(buckets)
            }
        };
        Ok(RateLimiter { backend })
    }

    /// Takes one request from `key`'s bucket. `key` is the principal's id, or
    /// the client IP when `anonymous` (principals and anonymous callers have
    /// separate buckets, so the two never collide).
    ///
    /// Errors: [`RateLimitError::Limited`] when over budget;
    /// [`RateLimitError::RedisUnavailable`] / [`RateLimitError::RedisTimeout`]
    /// when Redis cannot decide (see [`RateLimitError::is_unavailable`]).
    pub async fn check(&self, key: &str, anonymous: bool) -> Result<(), RateLimitError> {
        match &self.backend {
            Backend::Disabled => Ok(()),
            Backend::InProcess {
                principals,
                anonymous: anonymous_buckets,
            } => {
                let buckets = if anonymous {
                    anonymous_buckets
                } else {
                    principals
                };
                buckets.check(key).map_err(RateLimitError::Limited)
            }
            Backend::Redis(redis) => redis.check(key, anonymous).await,
        }
    }
}

/// One class of bucket (principals or anonymous), checked.
#[derive(Debug, Clone, Copy)]
struct Limits {
    per_second: NonZeroU32,
    burst: NonZeroU32,
}

impl Limits {
    fn new(
        (rate_field, rate): (&'static str, u32),
        (burst_field, burst): (&'static str, u32),
    ) -> Result<Limits, RateLimitError> {
        let per_second = NonZeroU32::new(rate)
            .filter(|r| r.get() <= MAX_REQUESTS_PER_SECOND)
            .ok_or(RateLimitError::InvalidLimit {
                field: rate_field,
                value: rate,
                max: MAX_REQUESTS_PER_SECOND,
            })?;
        let burst = NonZeroU32::new(burst).ok_or(RateLimitError::InvalidLimit {
            field: burst_field,
            value: burst,
            max: u32::MAX,
        })?;
        Ok(Limits { per_second, burst })
    }

    fn quota(self) -> Quota {
        Quota::per_second(self.per_second).allow_burst(self.burst)
    }

    /// GCRA's emission interval (time one request costs), in microseconds.
    fn interval_micros(self) -> u64 {
        1_000_000 / u64::from(self.per_second.get())
    }

    /// GCRA's tolerance (how far ahead of now the bucket may run), in microseconds.
    fn tolerance_micros(self) -> u64 {
        self.interval_micros() * u64::from(self.burst.get() - 1)
    }
}

/// `governor`'s keyed limiter with its memory bound.
struct InProcessBuckets {
    quota: Quota,
    limiter: ArcSwap<DefaultKeyedRateLimiter<String>>,
    checks: AtomicU64,
}

impl InProcessBuckets {
    fn new(quota: Quota) -> InProcessBuckets {
        InProcessBuckets {
            quota,
            limiter: ArcSwap::from_pointee(DefaultKeyedRateLimiter::keyed(quota)),
            checks: AtomicU64::new(0),
        }
    }

    fn check(&self, key: &str) -> Result<(), Refusal> {
        let checks = self.checks.fetch_add(1, Ordering::Relaxed) + 1;
        if checks.is_multiple_of(RETAIN_EVERY) {
            self.trim();
        }
        let limiter = self.limiter.load();
        match limiter.check_key(&key.to_owned()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(limiter.clock().now());
                Err(Refusal {
                    retry_after: wait.max(Duration::from_micros(1)),
                })
            }
        }
    }

    /// Drops the keys whose bucket is full again; starts afresh if too many are live.
    fn trim(&self) {
        let limiter = self.limiter.load();
        let before = limiter.len();
        limiter.retain_recent();
        let live = limiter.len();
        if live > MAX_IN_PROCESS_KEYS {
            tracing::warn!(
                live,
                max = MAX_IN_PROCESS_KEYS,
                "rate limiter: too many callers at once; starting the in-process buckets afresh \
                 (set rate_limit.redis_url to keep them in Redis)"
            );
            self.limiter
                .store(Arc::new(DefaultKeyedRateLimiter::keyed(self.quota)));
        } else if live < before / 4 {
            // Most keys went: give the memory back (not every time, to avoid churn).
            limiter.shrink_to_fit();
        }
    }
}

/// GCRA in one atomic step. KEYS[1]: the bucket. ARGV[1]: emission interval,
/// ARGV[2]: tolerance (interval × (burst − 1)), both in microseconds.
/// Returns 0 when the request is let through, else the microseconds to wait.
/// The key holds the theoretical arrival time (microseconds of Redis's clock)
/// and expires when the bucket is full again.
const GCRA_SCRIPT: &str = r#"
if redis.replicate_commands then redis.replicate_commands() end
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local allow_at = tat - tolerance
if now < allow_at then
  return allow_at - now
end
local next_tat = tat + interval
local ttl_ms = math.ceil((next_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', ttl_ms)
return 0
"#;

struct RedisBuckets {
    connection: ConnectionManager,
    script: redis::Script,
    principals: Limits,
    anonymous: Limits,
    warnings: WarnThrottle,
}

/// At most one warning a second while Redis is down, with the count of those left out.
struct WarnThrottle {
    since: Instant,
    /// Milliseconds after `since` of the last warning, plus one (0: none yet).
    last: AtomicU64,
    suppressed: AtomicU64,
}

impl WarnThrottle {
    fn new() -> WarnThrottle {
        WarnThrottle {
            since: Instant::now(),
            last: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(warnings suppressed since the last one)` when this one should be logged.
    fn admit(&self) -> Option<u64> {
        let now = u64::try_from(self.since.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let last = self.last.load(Ordering::Relaxed);
        if (last == 0 || now.saturating_sub(last) >= 1000)
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

impl RedisBuckets {
    /// A manager that connects on first use (a failed connection is retried briefly, then an error).
    fn lazy(
        url: &str,
        principals: Limits,
        anonymous: Limits,
    ) -> Result<RedisBuckets, RateLimitError> {
        let client =
            redis::Client::open(url).map_err(|source| RateLimitError::RedisUrl { source })?;
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500))
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|source| RateLimitError::RedisConnect { source })?;
        Ok(RedisBuckets {
            connection,
            script: redis::Script::new(GCRA_SCRIPT),
            principals,
            anonymous,
            warnings: WarnThrottle::new(),
        })
    }

    async fn ping(&self) -> Result<(), RateLimitError> {
        let mut connection = self.connection.clone();
        let command = redis::cmd("PING");
        let ping = command.query_async::<String>(&mut connection);
        match tokio::time::timeout(REDIS_CHECK_TIMEOUT, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(source)) => Err(RateLimitError::RedisConnect { source }),
            Err(_) => Err(RateLimitError::RedisConnect {
                source: redis::RedisError::from(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer within {} ms", REDIS_CHECK_TIMEOUT.as_millis()),
                )),
            }),
        }
    }

    async fn check(&self, key: &str, anonymous: bool) -> Result<(), RateLimitError> {
        let (limits, class) = if anonymous {
            (self.anonymous, "anon:")
        } else {
            (self.principals, "principal:")
        };
        let mut redis_key = String::with_capacity(REDIS_KEY_PREFIX.len() + class.len() + key.len());
        redis_key.push_str(REDIS_KEY_PREFIX);
        redis_key.push_str(class);
        redis_key.push_str(key);

        let mut connection = self.connection.clone();
        let mut invocation = self.script.key(redis_key);
        invocation
            .arg(limits.interval_micros())
            .arg(limits.tolerance_micros());
        let answer = tokio::time::timeout(
            REDIS_CHECK_TIMEOUT,
            invocation.invoke_async::<i64>(&mut connection),
        )
        .await;
        match answer {
            Ok(Ok(wait)) if wait <= 0 => Ok(()),
            Ok(Ok(wait)) => Err(RateLimitError::Limited(Refusal {
                retry_after: Duration::from_micros(wait.unsigned_abs()),
            })),
            Ok(Err(source)) => {
                if let Some(suppressed) = self.warnings.admit() {
                    tracing::warn!(
                        error = %source,
                        suppressed,
                        "rate limiter: Redis failed; refusing requests until it answers"
                    );
                }
                Err(RateLimitError::RedisUnavailable { source })
            }
            Err(_) => {
                if let Some(suppressed) = self.warnings.admit() {
                    tracing::warn!(
                        after_ms = REDIS_CHECK_TIMEOUT.as_millis() as u64,
                        suppressed,
                        "rate limiter: Redis did not answer; refusing requests until it answers"
                    );
                }
                Err(RateLimitError::RedisTimeout {
                    after: REDIS_CHECK_TIMEOUT,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Redis the tests use (started by `scripts/services.sh`, and in CI).
    fn redis_url() -> String {
        std::env::var("TELLONCE_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
    }

    fn config(rate: u32, burst: u32, redis_url: Option<String>) -> RateLimitConfig {
        RateLimitConfig {
            enabled: true,
            requests_per_second: rate,
            burst,
            anonymous_requests_per_second: rate,
            anonymous_burst: burst,
            redis_url,
        }
    }

    async fn redis_limiter(rate: u32, burst: u32) -> RateLimiter {
        let url = redis_url();
        RateLimiter::connect(&config(rate, burst, Some(url.clone())))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "these tests need the Redis at {url} (start it with scripts/services.sh, or \
                     set TELLONCE_TEST_REDIS_URL): {e}"
                )
            })
    }

    /// A key no earlier run has used.
    fn unique(name: &str) -> String {
        format!("test-{name}-{}", uuid::Uuid::new_v4())
    }

    fn refusal(result: Result<(), RateLimitError>) -> Refusal {
        match result {
            Err(RateLimitError::Limited(refusal)) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// Checks until refused (bounded), then waits the refusal's retry_after and
    /// expects the next check through.
    async fn exhaust_then_recover(limiter: &RateLimiter, key: &str) {
        let mut refused = None;
        for _ in 0..10_000 {
            match limiter.check(key, false).await {
                Ok(()) => continue,
                Err(RateLimitError::Limited(refusal)) => {
                    refused = Some(refusal);
                    break;
                }
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        let refusal = refused.expect("a burst-2 bucket refuses within 10 000 quick checks");
        assert!(refusal.retry_after > Duration::ZERO);
        tokio::time::sleep(refusal.retry_after + Duration::from_millis(2)).await;
        limiter
            .check(key, false)
            .await
            .expect("the bucket lets a request through once retry_after has passed");
    }

    #[test]
    fn defaults() {
        let config: RateLimitConfig = serde_json::from_str("{}").expect("empty config");
        assert!(config.enabled);
        assert_eq!(
            (config.requests_per_second, config.burst),
            (50, 100),
            "principal defaults"
        );
        assert_eq!(
            (config.anonymous_requests_per_second, config.anonymous_burst),
            (10, 20)
        );
        assert!(config.redis_url.is_none());
        assert!(serde_json::from_str::<RateLimitConfig>(r#"{"brust": 3}"#).is_err());
    }

    #[tokio::test]
    async fn zero_limits_are_refused_with_the_field_named() {
        let err = RateLimiter::connect(&config(0, 5, None))
            .await
            .expect_err("rate 0");
        assert!(err.to_string().contains("rate_limit.requests_per_second"));
        let mut c = config(5, 5, None);
        c.anonymous_burst = 0;
        let err = RateLimiter::connect(&c).await.expect_err("burst 0");
        assert!(err.to_string().contains("rate_limit.anonymous_burst"));
    }

    #[tokio::test]
    async fn disabled_lets_everything_through() {
        let mut c = config(1, 1, Some("redis://127.0.0.1:1".to_owned()));
        c.enabled = false;
        let limiter = RateLimiter::connect(&c)
            .await
            .expect("disabled needs no Redis");
        for _ in 0..100 {
            limiter.check("k", false).await.expect("disabled");
            limiter.check("k", true).await.expect("disabled");
        }
    }

    #[tokio::test]
    async fn in_process_burst_then_refusal() {
        let limiter = RateLimiter::connect(&config(1, 2, None))
            .await
            .expect("limiter");
        limiter.check("alice", false).await.expect("first");
        limiter.check("alice", false).await.expect("second");
        let refusal = refusal(limiter.check("alice", false).await);
        assert!(refusal.retry_after > Duration::ZERO);
        assert!(refusal.retry_after <= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn in_process_keys_and_classes_have_separate_budgets() {
        let limiter = RateLimiter::connect(&config(1, 2, None))
            .await
            .expect("limiter");
        for _ in 0..2 {
            limiter.check("alice", false).await.expect("alice's burst");
        }
        refusal(limiter.check("alice", false).await);
        limiter
            .check("bob", false)
            .await
            .expect("bob has his own bucket");
        limiter
            .check("alice", true)
            .await
            .expect("an anonymous caller keyed `alice` is not the principal alice");
    }

    #[tokio::test]
    async fn in_process_recovers_after_time_passes() {
        let limiter = RateLimiter::connect(&config(50, 2, None))
            .await
            .expect("limiter");
        exhaust_then_recover(&limiter, "alice").await;
    }

    #[tokio::test]
    async fn in_process_store_stays_bounded() {
        let limiter = RateLimiter::connect(&config(1_000, 1, None))
            .await
            .expect("limiter");
        let Backend::InProcess { principals, .. } = &limiter.backend else {
            panic!("in process");
        };
        for i in 0..(RETAIN_EVERY * 3) {
            let _ = limiter.check(&format!("caller-{i}"), false).await;
        }
        // Every RETAIN_EVERY checks the full buckets (1 ms after their one request) go.
        tokio::time::sleep(Duration::from_millis(5)).await;
        principals.trim();
        assert!(
            principals.limiter.load().len() < 10,
            "full buckets are dropped, {} left",
            principals.limiter.load().len()
        );
    }

    #[tokio::test]
    async fn redis_burst_then_refusal_and_bounded_ttl() {
        let limiter = redis_limiter(1, 2).await;
        let key = unique("burst");
        limiter.check(&key, false).await.expect("first");
        limiter.check(&key, false).await.expect("second");
        let refusal = refusal(limiter.check(&key, false).await);
        assert!(refusal.retry_after > Duration::ZERO);
        assert!(refusal.retry_after <= Duration::from_secs(1));

        // The key expires when the bucket is full again: at most burst / rate from now.
        let client = redis::Client::open(redis_url()).expect("url");
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("connection");
        let ttl: i64 = redis::cmd("PTTL")
            .arg(format!("{REDIS_KEY_PREFIX}principal:{key}"))
            .query_async(&mut connection)
            .await
            .expect("PTTL");
        assert!(ttl > 0 && ttl <= 2_000, "TTL {ttl} ms");
    }

    #[tokio::test]
    async fn redis_instances_share_one_budget() {
        // Two hub instances: two limiters on the same Redis.
        let first = redis_limiter(1, 3).await;
        let second = redis_limiter(1, 3).await;
        let key = unique("shared");
        first.check(&key, false).await.expect("1 of 3");
        second.check(&key, false).await.expect("2 of 3");
        first.check(&key, false).await.expect("3 of 3");
        refusal(second.check(&key, false).await);
        refusal(first.check(&key, false).await);
        second
            .check(&unique("other"), false)
            .await
            .expect("another key has its own budget");
        second
            .check(&key, true)
            .await
            .expect("the anonymous class has its own budget");
    }

    #[tokio::test]
    async fn redis_recovers_after_time_passes() {
        let limiter = redis_limiter(50, 2).await;
        exhaust_then_recover(&limiter, &unique("recover")).await;
    }

    #[tokio::test]
    async fn redis_down_is_an_error_not_a_pass() {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let url = format!("redis://127.0.0.1:{port}");
        let err = RateLimiter::connect(&config(1, 1, Some(url.clone())))
            .await
            .expect_err("no Redis there");
        assert!(matches!(err, RateLimitError::RedisConnect { .. }), "{err}");

        // Redis gone after start: checks fail with an error the caller maps to 503.
        let limits = Limits::new(("r", 1), ("b", 1)).expect("limits");
        let limiter = RateLimiter {
            backend: Backend::Redis(RedisBuckets::lazy(&url, limits, limits).expect("lazy")),
        };
        let err = limiter.check("alice", false).await.expect_err("Redis down");
        assert!(err.is_unavailable(), "{err}");
        assert!(err.to_string().contains("Redis"), "{err}");
    }
}
