//! A throw-away redis-server per test, stores on it with random namespaces, raw access.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc
)]

use std::time::Duration;

use frameio_auth_core::{AccessToken, Lifetime, RefreshToken, Timestamp, TokenKey, TokenSet};
use frameio_auth_store_redis::{EncryptionKey, RedisStore, RedisStoreBuilder};
use frameio_auth_testkit::redis_server::{RedisServer, RedisServerConfig};

/// A server, or `None` (the test passes after a note) without redis-server, unless
/// `FRAMEIO_AUTH_REQUIRE_REDIS=1`.
pub(crate) fn server() -> Option<RedisServer> {
    RedisServer::start_or_skip(RedisServerConfig::default())
}

pub(crate) fn random(prefix: &str) -> String {
    frameio_auth_testkit::redis_server::unique_name(prefix).unwrap()
}

pub(crate) fn key_a() -> EncryptionKey {
    EncryptionKey::from_bytes("key-a", [0xA5; 32]).unwrap()
}

pub(crate) fn key_b() -> EncryptionKey {
    EncryptionKey::from_bytes("key-b", [0x5B; 32]).unwrap()
}

/// A builder on `server` with a new namespace and key `key-a`.
pub(crate) fn builder(server: &RedisServer) -> RedisStoreBuilder {
    RedisStore::builder()
        .url(server.url())
        .namespace(random("test"))
        .key(key_a())
}

pub(crate) fn store(server: &RedisServer) -> RedisStore {
    builder(server).build().unwrap()
}

pub(crate) fn token_key(name: &str) -> TokenKey {
    TokenKey::builder("ims", "prod", "redis-test")
        .profile(name)
        .build()
        .unwrap()
}

/// A set whose secrets are long and easy to search for.
pub(crate) fn tokens(tag: &str) -> TokenSet {
    TokenSet::new(
        AccessToken::new(format!("LEAKCHECK-access-{tag}-0123456789")),
        Timestamp::from_unix_secs(1_700_000_000),
        Lifetime::ExpiresIn(Duration::from_secs(86_399)),
    )
    .with_refresh_token(
        RefreshToken::new(format!("LEAKCHECK-refresh-{tag}-0123456789")),
        Some(Timestamp::from_unix_secs(4_000_000_000)),
    )
}

/// A plain connection to `server` for looking at (and tampering with) what the store wrote.
pub(crate) async fn raw(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}
