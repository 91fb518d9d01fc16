//! No secret reaches tracing, `Debug` or an error: the Redis password, key material and
//! every token, through saves, loads, locks, fenced saves, deletes, failures and a plaintext
//! store, while the traces do show each Redis command (by name and key). Also: an `allkeys-*`
//! eviction policy is warned about exactly once. Alone in its binary: it installs the global
//! tracing subscriber.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines
)]

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::{token_key, tokens};
use frameio_auth_core::{StoreLock, TokenStore};
use frameio_auth_store_redis::{EncryptionKey, RedisStore};
use frameio_auth_testkit::redis_server::{RedisServer, RedisServerConfig};
use frameio_auth_testkit::tracing_capture::{Capture, assert_no_secret, token_secrets};

const PASSWORD: &str = "LEAKCHECK-redis-password-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_key_or_token_reaches_traces_debug_or_errors() {
    let capture = Capture::install();
    let Some(server) = RedisServer::start_or_skip(
        RedisServerConfig::default()
            .password(PASSWORD)
            .maxmemory_policy("allkeys-lru"),
    ) else {
        return;
    };
    let key_bytes = [0x4C; 32];
    let key_base64 = base64::engine::general_purpose::STANDARD.encode(key_bytes);
    let url = format!("redis://default:{PASSWORD}@127.0.0.1:{}", server.port());
    let store = RedisStore::builder()
        .url(&url)
        .namespace(common::random("leak"))
        .key(EncryptionKey::from_base64("leak-key", &key_base64).unwrap())
        .lease(Duration::from_millis(300))
        .build()
        .unwrap();
    let plaintext = RedisStore::builder()
        .url(&url)
        .namespace(common::random("leak-plain"))
        .plaintext()
        .lease(Duration::from_millis(300))
        .build()
        .unwrap();

    let mut secrets = vec![PASSWORD.to_owned(), key_base64.clone()];
    let mut shown = Vec::new();
    for (tag, store) in [("sealed", &store), ("plain", &plaintext)] {
        let key = token_key(tag);
        let set = tokens(tag);
        token_secrets(&set, &mut secrets);
        store.save(&key, &set).await.unwrap();
        assert_eq!(store.load(&key).await.unwrap(), Some(set.clone()));
        let guard = store.lock_key_guard(&key).await.unwrap();
        guard.reload(store).await.unwrap();
        let rotated = tokens(&format!("{tag}-rotated"));
        token_secrets(&rotated, &mut secrets);
        guard.save_fenced(store, &rotated).await.unwrap();
        // Let the lease be renewed at least once while held.
        while guard.renewals() < 1 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        shown.push(format!("{guard:?}"));
        // A stale fenced save, and its error.
        store
            .save(&key, &tokens(&format!("{tag}-login")))
            .await
            .unwrap();
        token_secrets(&tokens(&format!("{tag}-login")), &mut secrets);
        let fenced = guard.save_fenced(store, &set).await.unwrap_err();
        shown.push(format!("{fenced} {fenced:?}"));
        drop(guard);
        store.keys().await.unwrap();
        store.delete(&key).await.unwrap();
        shown.push(format!("{store:?}"));
    }

    // Failures: a wrong key, a wrong password, a Redis that went away.
    let other = RedisStore::builder()
        .url(&url)
        .namespace(store.namespace())
        .key(EncryptionKey::from_bytes("other", [1; 32]).unwrap())
        .build()
        .unwrap();
    let key = token_key("failures");
    store.save(&key, &tokens("failures")).await.unwrap();
    token_secrets(&tokens("failures"), &mut secrets);
    let error = other.load(&key).await.unwrap_err();
    shown.push(format!("{error} {error:?}"));
    let wrong = RedisStore::builder()
        .url(format!(
            "redis://default:LEAKCHECK-wrong-password-01@127.0.0.1:{}",
            server.port()
        ))
        .plaintext()
        .build()
        .unwrap();
    secrets.push("LEAKCHECK-wrong-password-01".to_owned());
    let error = wrong.load(&key).await.unwrap_err();
    shown.push(format!("{error} {error:?} {wrong:?}"));
    let port = server.port();
    drop(server);
    let error = store.load(&key).await.unwrap_err();
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{port}")),
        "{error}"
    );
    shown.push(format!("{error} {error:?}"));
    let builder_debug = format!(
        "{:?}",
        RedisStore::builder()
            .url(&url)
            .key(EncryptionKey::from_base64("k", &key_base64).unwrap())
    );
    shown.push(builder_debug);
    let text = capture.text();
    assert_no_secret(&text, &secrets);
    assert_no_secret(&shown.join("\n"), &secrets);
    // The traces do show the commands: by name and Redis key, never a value.
    for command in [
        "command=\"save\"",
        "command=\"load\"",
        "command=\"lock\"",
        "command=\"renew\"",
        "command=\"SCAN\"",
    ] {
        assert!(text.contains(command), "no {command} in the traces");
    }
    // The plaintext opt-out is logged, and the eviction policy warned about exactly once,
    // though three stores connected to that Redis (and each read the policy).
    assert!(text.contains("plaintext (explicit opt-out)"));
    for each in [&store, &plaintext, &other] {
        assert_eq!(each.maxmemory_policy().as_deref(), Some("allkeys-lru"));
    }
    assert_eq!(
        text.matches("may evict any key under memory pressure")
            .count(),
        1,
        "warned once"
    );
    assert!(
        text.contains("maxmemory-policy noeviction"),
        "the warning says how to fix it"
    );
}
