//! What the Redis store writes, against a real redis-server: layout, versions, expiry,
//! encryption and key rotation, bad values (typed errors, untouched), namespaces, and a
//! Redis that is not there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{key_a, key_b, raw, token_key, tokens};
use frameio_auth_core::{
    AccessToken, FormatError, Lifetime, StoreError, Timestamp, TokenSet, TokenStore,
};
use frameio_auth_store_redis::{DEFAULT_GRACE, EncryptionKey, RedisStore};
use redis::AsyncCommands as _;

async fn field(
    connection: &mut redis::aio::MultiplexedConnection,
    key: &str,
    name: &str,
) -> Option<Vec<u8>> {
    connection.hget(key, name).await.unwrap()
}

async fn version(connection: &mut redis::aio::MultiplexedConnection, key: &str) -> u64 {
    let v: String = connection.hget(key, "v").await.unwrap();
    v.parse().unwrap()
}

#[tokio::test]
async fn entries_are_versioned_hashes_under_the_namespace_with_a_shared_hash_tag() {
    let Some(server) = common::server() else {
        return;
    };
    let store = common::builder(&server)
        .namespace("app:prod")
        .build()
        .unwrap();
    let key = token_key("layout");
    let entry = store.entry_key(&key);
    assert_eq!(entry, format!("app:prod:token:{{{}}}", key.as_str()));
    assert_eq!(
        store.lock_key(&key),
        format!("app:prod:lock:{{{}}}", key.as_str())
    );

    let mut connection = raw(&server).await;
    store.save(&key, &tokens("one")).await.unwrap();
    let first = version(&mut connection, &entry).await;
    store.save(&key, &tokens("two")).await.unwrap();
    assert_eq!(version(&mut connection, &entry).await, first + 1);
    let guard = store.lock(&key).await.unwrap();
    let locked: bool = connection.exists(store.lock_key(&key)).await.unwrap();
    assert!(locked);
    guard.save_fenced(&store, &tokens("three")).await.unwrap();
    assert_eq!(version(&mut connection, &entry).await, first + 2);
    drop(guard);

    // The entry, its lock and its tombstone share the hash tag `{<key>}` (the first braces
    // of each name): one Redis Cluster slot, so the scripts may touch them together.
    let tag = format!("{{{}}}", key.as_str());
    for name in [&entry, &store.lock_key(&key)] {
        assert_eq!(name.find('{'), name.find(&tag), "{name}");
    }

    // keys() lists it, through SCAN, never KEYS.
    assert_eq!(store.keys().await.unwrap(), vec![key.clone()]);
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(stats.contains("cmdstat_scan"), "{stats}");
    assert!(!stats.contains("cmdstat_keys"), "{stats}");

    // A delete leaves a tombstone, and a re-created entry starts above every old version.
    store.delete(&key).await.unwrap();
    assert_eq!(store.load(&key).await.unwrap(), None);
    assert!(store.keys().await.unwrap().is_empty());
    let gone: u64 = connection
        .get(format!("app:prod:gone:{{{}}}", key.as_str()))
        .await
        .unwrap();
    assert_eq!(gone, first + 2);
    store.save(&key, &tokens("again")).await.unwrap();
    assert!(version(&mut connection, &entry).await > first + 2);
}

#[tokio::test]
async fn entries_expire_at_their_last_usable_moment_plus_grace_never_in_the_past() {
    let Some(server) = common::server() else {
        return;
    };
    let store = common::store(&server);
    let mut connection = raw(&server).await;
    let timer = connection.clone();
    let expire_time = |entry: String| {
        let mut connection = timer.clone();
        async move {
            let at: i64 = redis::cmd("PEXPIRETIME")
                .arg(entry)
                .query_async(&mut connection)
                .await
                .unwrap();
            at
        }
    };
    let grace_ms = i64::try_from(DEFAULT_GRACE.as_millis()).unwrap();

    // A refresh token's expiry (in 2096) decides.
    let key = token_key("expiry-refresh");
    store.save(&key, &tokens("expiry")).await.unwrap();
    assert_eq!(
        expire_time(store.entry_key(&key)).await,
        4_000_000_000_000 + grace_ms
    );

    // Long expired: never in the past, so the next load finds it.
    let key = token_key("expiry-past");
    let old = TokenSet::new(
        AccessToken::new("LEAKCHECK-old-access-0123456789"),
        Timestamp::from_unix_secs(1_000),
        Lifetime::ExpiresIn(Duration::from_secs(60)),
    );
    store.save(&key, &old).await.unwrap();
    let (now_secs, _): (i64, i64) = redis::cmd("TIME")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(expire_time(store.entry_key(&key)).await >= now_secs * 1000 + grace_ms);
    assert_eq!(store.load(&key).await.unwrap(), Some(old));

    // Unknown: no expiry. And a later save with a known expiry sets one again.
    let key = token_key("expiry-never");
    let never = TokenSet::new(
        AccessToken::new("LEAKCHECK-never-access-0123456789"),
        Timestamp::from_unix_secs(1_000),
        Lifetime::Never,
    );
    store.save(&key, &never).await.unwrap();
    assert_eq!(expire_time(store.entry_key(&key)).await, -1);
    store.save(&key, &tokens("known")).await.unwrap();
    assert!(expire_time(store.entry_key(&key)).await > 0);
    // A known expiry then unknown again: the expiry goes.
    store.save(&key, &never).await.unwrap();
    assert_eq!(expire_time(store.entry_key(&key)).await, -1);
}

#[tokio::test]
async fn values_are_sealed_with_the_key_as_associated_data() {
    let Some(server) = common::server() else {
        return;
    };
    let store = common::store(&server);
    let mut connection = raw(&server).await;
    let (a, b) = (token_key("sealed-a"), token_key("sealed-b"));
    store.save(&a, &tokens("a")).await.unwrap();
    store.save(&b, &tokens("b")).await.unwrap();
    let value = field(&mut connection, &store.entry_key(&a), "d")
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&value);
    assert!(
        !text.contains("LEAKCHECK"),
        "the token is not readable in Redis"
    );
    assert!(!text.contains("frameio-auth.token-set"));
    assert!(text.contains("key-a"), "the value names its key id");

    // A's value copied over B's: it does not open there, and stays as it was.
    let _: () = connection
        .hset(store.entry_key(&b), "d", value.as_slice())
        .await
        .unwrap();
    match store.load(&b).await {
        Err(StoreError::Decryption { location, message }) => {
            assert!(location.contains(&store.entry_key(&b)), "{location}");
            assert!(message.contains("copied from another entry"), "{message}");
        }
        other => panic!("expected Decryption, got {:?}", other.map(|t| t.is_some())),
    }
    // ... and a save refuses to replace it.
    assert!(matches!(
        store.save(&b, &tokens("b2")).await,
        Err(StoreError::Decryption { .. })
    ));
    assert_eq!(
        field(&mut connection, &store.entry_key(&b), "d").await,
        Some(value)
    );
}

/// Reads, then tries to save over, an entry whose value was replaced by `bad`: the error
/// `check` accepts both times, and the value stays byte for byte.
async fn refused_and_untouched(
    store: &RedisStore,
    connection: &mut redis::aio::MultiplexedConnection,
    name: &str,
    bad: &[u8],
    check: impl Fn(&StoreError) -> bool,
) {
    let key = token_key(name);
    store.save(&key, &tokens(name)).await.unwrap();
    let entry = store.entry_key(&key);
    let _: () = connection.hset(&entry, "d", bad).await.unwrap();
    let loaded = store.load(&key).await;
    assert!(
        loaded.as_ref().is_err_and(&check),
        "{name}: load gave {:?}",
        loaded.map(|t| t.is_some())
    );
    let error = loaded.unwrap_err().to_string();
    assert!(!error.contains("LEAKCHECK"), "{error}");
    let saved = store.save(&key, &tokens("replacement")).await;
    assert!(
        saved.as_ref().is_err_and(&check),
        "{name}: save gave {saved:?}"
    );
    let guard = store.lock(&key).await.unwrap();
    assert!(guard.reload(store).await.is_err_and(|e| check(&e)));
    assert!(
        guard
            .save_fenced(store, &tokens("x"))
            .await
            .is_err_and(|e| check(&e))
    );
    drop(guard);
    assert_eq!(
        field(connection, &entry, "d").await.as_deref(),
        Some(bad),
        "{name}: the entry must stay untouched"
    );
    // An explicit delete still removes it, and a new login can be saved.
    store.delete(&key).await.unwrap();
    store.save(&key, &tokens(name)).await.unwrap();
}

#[tokio::test]
async fn wrong_key_truncated_and_unknown_version_values_give_typed_errors_and_stay() {
    let Some(server) = common::server() else {
        return;
    };
    let store = common::store(&server);
    let mut connection = raw(&server).await;
    let key = token_key("source");
    store.save(&key, &tokens("source")).await.unwrap();
    let good = field(&mut connection, &store.entry_key(&key), "d")
        .await
        .unwrap();

    // Sealed by another store with another key.
    let other = common::builder(&server).key(key_b()).build().unwrap();
    let wrong_key_name = "wrong-key";
    other
        .save(&token_key(wrong_key_name), &tokens("other"))
        .await
        .unwrap();
    let sealed_by_b = field(
        &mut connection,
        &other.entry_key(&token_key(wrong_key_name)),
        "d",
    )
    .await
    .unwrap();
    refused_and_untouched(&store, &mut connection, wrong_key_name, &sealed_by_b, |e| {
        matches!(e, StoreError::Decryption { message, .. } if message.contains("key `key-b`") && message.contains("key-a"))
    })
    .await;

    // Same id, other bytes: does not open.
    let impostor = common::builder(&server)
        .key(EncryptionKey::from_bytes("key-a", [1; 32]).unwrap())
        .build()
        .unwrap();
    impostor
        .save(&token_key("impostor"), &tokens("impostor"))
        .await
        .unwrap();
    let sealed_by_impostor = field(
        &mut connection,
        &impostor.entry_key(&token_key("impostor")),
        "d",
    )
    .await
    .unwrap();
    refused_and_untouched(&store, &mut connection, "impostor", &sealed_by_impostor, |e| {
        matches!(e, StoreError::Decryption { message, .. } if message.contains("does not open with key `key-a`"))
    })
    .await;

    refused_and_untouched(
        &store,
        &mut connection,
        "truncated",
        &good[..good.len() / 2],
        |e| matches!(e, StoreError::Decryption { .. }),
    )
    .await;
    refused_and_untouched(&store, &mut connection, "truncated-header", &good[..6], |e| {
        matches!(e, StoreError::Corrupt { reason: FormatError::Invalid { reason }, .. } if reason.contains("truncated"))
    })
    .await;
    let mut future = good.clone();
    future[2] = 9;
    refused_and_untouched(&store, &mut connection, "future", &future, |e| {
        matches!(
            e,
            StoreError::Corrupt {
                reason: FormatError::UnsupportedVersion { found: 9 },
                ..
            }
        )
    })
    .await;
    refused_and_untouched(&store, &mut connection, "foreign", b"{\"hello\":1}", |e| {
        matches!(
            e,
            StoreError::Corrupt {
                reason: FormatError::Foreign,
                ..
            }
        )
    })
    .await;

    // A store with no key (plaintext) cannot read a sealed value: typed, with the key id.
    let plain = RedisStore::builder()
        .url(server.url())
        .namespace(store.namespace())
        .plaintext()
        .build()
        .unwrap();
    match plain.load(&key).await {
        Err(StoreError::Decryption { message, .. }) => {
            assert!(message.contains("has no key"), "{message}");
        }
        other => panic!("expected Decryption, got {:?}", other.map(|t| t.is_some())),
    }
}

#[tokio::test]
async fn keys_rotate_new_writes_use_the_current_key_and_old_keys_still_read() {
    let Some(server) = common::server() else {
        return;
    };
    let namespace = common::random("rotation");
    let before = common::builder(&server)
        .namespace(namespace.clone())
        .build()
        .unwrap();
    let after = common::builder(&server)
        .namespace(namespace)
        .key(key_b())
        .old_key(key_a())
        .build()
        .unwrap();
    assert_eq!(after.current_key_id(), Some("key-b"));
    let key = token_key("rotation");
    before.save(&key, &tokens("rotation")).await.unwrap();
    assert_eq!(after.load(&key).await.unwrap(), Some(tokens("rotation")));
    after.save(&key, &tokens("rotated")).await.unwrap();
    let mut connection = raw(&server).await;
    let value = field(&mut connection, &after.entry_key(&key), "d")
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&value).contains("key-b"));
    // A process still on the old key only cannot read it, and says which key it needs.
    match before.load(&key).await {
        Err(StoreError::Decryption { message, .. }) => {
            assert!(message.contains("`key-b`"), "{message}");
        }
        other => panic!("expected Decryption, got {:?}", other.map(|t| t.is_some())),
    }
}

#[tokio::test]
async fn namespaces_do_not_see_each_other() {
    let Some(server) = common::server() else {
        return;
    };
    let (one, two) = (common::store(&server), common::store(&server));
    let key = token_key("shared-name");
    one.save(&key, &tokens("one")).await.unwrap();
    assert_eq!(two.load(&key).await.unwrap(), None);
    assert!(two.keys().await.unwrap().is_empty());
    two.save(&key, &tokens("two")).await.unwrap();
    assert_eq!(one.load(&key).await.unwrap(), Some(tokens("one")));
    let _held = one.lock(&key).await.unwrap();
    // Locks are per namespace too.
    assert!(two.try_lock(&key).await.unwrap().is_some());
}

#[tokio::test]
async fn an_unreachable_redis_is_a_typed_unavailable_error_without_the_password() {
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = RedisStore::builder()
        .url(format!(
            "redis://fleet:LEAKCHECK-password-0123@127.0.0.1:{port}/3"
        ))
        .key(key_a())
        .connect_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    assert!(!format!("{store:?}").contains("LEAKCHECK"));
    let key = token_key("down");
    for outcome in [
        store.load(&key).await.map(drop),
        store.save(&key, &tokens("down")).await,
        store.lock(&key).await.map(drop),
        store.keys().await.map(drop),
    ] {
        match outcome {
            Err(StoreError::Unavailable { backend, message }) => {
                assert_eq!(backend, "redis");
                assert!(
                    message.contains(&format!("redis://fleet@127.0.0.1:{port}/3")),
                    "{message}"
                );
                assert!(!message.contains("LEAKCHECK"), "{message}");
                assert!(message.contains("check that Redis runs"), "{message}");
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_wrong_password_is_unavailable_and_says_to_check_it() {
    let Some(server) = frameio_auth_testkit::redis_server::RedisServer::start_or_skip(
        frameio_auth_testkit::redis_server::RedisServerConfig::default()
            .password("LEAKCHECK-right-password"),
    ) else {
        return;
    };
    let port = server.port();
    let wrong = RedisStore::builder()
        .url(format!(
            "redis://default:LEAKCHECK-wrong-password@127.0.0.1:{port}"
        ))
        .key(key_a())
        .build()
        .unwrap();
    match wrong.load(&token_key("auth")).await {
        Err(StoreError::Unavailable { message, .. }) => {
            assert!(message.contains("password"), "{message}");
            assert!(!message.contains("LEAKCHECK"), "{message}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let right = RedisStore::builder()
        .url(format!(
            "redis://default:LEAKCHECK-right-password@127.0.0.1:{port}"
        ))
        .key(key_a())
        .build()
        .unwrap();
    right
        .save(&token_key("auth"), &tokens("auth"))
        .await
        .unwrap();
    assert!(right.load(&token_key("auth")).await.unwrap().is_some());
}

#[tokio::test]
async fn rediss_urls_connect_over_tls_to_a_trusted_certificate_only() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (certificate, key) = (dir.path().join("redis.crt"), dir.path().join("redis.key"));
    std::fs::write(&certificate, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let Some(server) = frameio_auth_testkit::redis_server::RedisServer::start_or_skip(
        frameio_auth_testkit::redis_server::RedisServerConfig::default().tls(&certificate, &key),
    ) else {
        return;
    };
    let url = server.tls_url().unwrap();
    let trusting = RedisStore::builder()
        .url(&url)
        .tls_root_certificates_pem(certified.cert.pem())
        .key(key_a())
        .build()
        .unwrap();
    let key = token_key("tls");
    trusting.save(&key, &tokens("tls")).await.unwrap();
    assert_eq!(trusting.load(&key).await.unwrap(), Some(tokens("tls")));
    // With the platform's roots only, the self-signed certificate is refused.
    let platform = RedisStore::builder()
        .url(&url)
        .key(key_a())
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    match platform.load(&key).await {
        Err(StoreError::Unavailable { message, .. }) => {
            assert!(message.contains(&url), "{message}");
        }
        other => panic!("expected Unavailable, got {:?}", other.map(|t| t.is_some())),
    }
}

#[tokio::test]
async fn an_existing_connection_manager_can_be_given() {
    let Some(server) = common::server() else {
        return;
    };
    let manager = redis::Client::open(server.url())
        .unwrap()
        .get_connection_manager()
        .await
        .unwrap();
    let store = RedisStore::builder()
        .connection_manager(manager)
        .namespace(common::random("manager"))
        .key(key_a())
        .build()
        .unwrap();
    assert_eq!(store.address(), "a given connection manager");
    let key = token_key("manager");
    store.save(&key, &tokens("manager")).await.unwrap();
    assert_eq!(store.load(&key).await.unwrap(), Some(tokens("manager")));
    assert_eq!(store.keys().await.unwrap(), vec![key]);
}

#[tokio::test]
async fn the_longest_grace_still_saves_and_deletes() {
    let Some(server) = common::server() else {
        return;
    };
    let store = common::builder(&server)
        .grace(frameio_auth_store_redis::MAX_GRACE)
        .build()
        .unwrap();
    let key = common::token_key("longest-grace");
    store.save(&key, &common::tokens("one")).await.unwrap();
    store.delete(&key).await.unwrap();
    assert_eq!(store.load(&key).await.unwrap(), None);
}
