//! The doorbell between hub instances: in process (one instance, nothing to
//! tell) or Redis pub/sub (every instance's tail hears that the ledger grew).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use redis::aio::ConnectionManager;
use tokio::sync::{Mutex, Notify};

/// How ledger growth reaches the other instances.
#[derive(Clone)]
pub enum Broker {
    InProcess,
    Redis(Arc<RedisBroker>),
}

/// Redis pub/sub on one channel per ledger origin.
pub struct RedisBroker {
    client: redis::Client,
    channel: String,
    publisher: Mutex<Option<ConnectionManager>>,
    rung: Notify,
}

/// How long an announcement may hold the tail up when Redis is slow or down.
const PUBLISH_TIMEOUT: Duration = Duration::from_millis(250);

impl Broker {
    /// Redis at `url`, on a channel named after the ledger's `origin` so
    /// that unrelated hubs sharing one Redis stay apart.
    pub fn redis(url: &str, origin: &str) -> Result<Broker, redis::RedisError> {
        Ok(Broker::Redis(Arc::new(RedisBroker {
            client: redis::Client::open(url)?,
            channel: format!("tellonce:ledger:{origin}"),
            publisher: Mutex::new(None),
            rung: Notify::new(),
        })))
    }

    /// The background work the broker needs (the Redis listener).
    pub(super) fn start(&self) -> Vec<tokio::task::JoinHandle<()>> {
        match self {
            Broker::InProcess => Vec::new(),
            Broker::Redis(redis) => {
                let redis = redis.clone();
                vec![tokio::spawn(async move { redis.listen().await })]
            }
        }
    }

    /// Resolves when another instance says the ledger grew (or the
    /// connection came back, after which anything may have been missed).
    pub(super) async fn rung(&self) {
        match self {
            Broker::InProcess => std::future::pending().await,
            Broker::Redis(redis) => redis.rung.notified().await,
        }
    }

    /// Tells the other instances that the ledger now has `size` entries.
    pub(super) async fn announce(&self, size: u64) {
        if let Broker::Redis(redis) = self {
            if tokio::time::timeout(PUBLISH_TIMEOUT, redis.publish(size))
                .await
                .is_err()
            {
                tracing::warn!("Redis did not take the ledger announcement in time");
            }
        }
    }
}

impl RedisBroker {
    async fn publish(&self, size: u64) {
        let mut publisher = self.publisher.lock().await;
        if publisher.is_none() {
            match ConnectionManager::new(self.client.clone()).await {
                Ok(connection) => *publisher = Some(connection),
                Err(error) => {
                    tracing::warn!(%error, "cannot reach Redis to announce ledger growth");
                    return;
                }
            }
        }
        if let Some(connection) = publisher.as_mut() {
            let sent: Result<i64, _> = redis::cmd("PUBLISH")
                .arg(&self.channel)
                .arg(size)
                .query_async(connection)
                .await;
            if let Err(error) = sent {
                tracing::warn!(%error, "Redis refused the ledger announcement");
                *publisher = None;
            }
        }
    }

    /// Listens for announcements for as long as the hub runs, reconnecting
    /// with backoff; every (re)connection rings once, because announcements
    /// sent while it was away are lost and the tail must look.
    async fn listen(&self) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(&self.channel).await {
                    Ok(()) => {
                        backoff = Duration::from_millis(100);
                        tracing::info!(channel = %self.channel, "listening for ledger announcements on Redis");
                        self.rung.notify_one();
                        let mut messages = pubsub.on_message();
                        while messages.next().await.is_some() {
                            self.rung.notify_one();
                        }
                        tracing::warn!("the Redis connection for ledger announcements closed");
                    }
                    Err(error) => tracing::warn!(%error, "cannot subscribe on Redis"),
                },
                Err(error) => tracing::warn!(%error, "cannot reach Redis for ledger announcements"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }
}
