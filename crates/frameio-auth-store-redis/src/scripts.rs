//! The Lua scripts: each runs atomically on the server (and on one Redis Cluster node: all
//! the keys a script touches share the entry's hash tag).

use std::sync::LazyLock;

use redis::{Script, Value};

/// KEYS: entry, tombstone. Returns `{1, version, data}` for an entry, `{2, version}` when
/// there is none but a tombstone (deleted on purpose, at that version), `{0}` when there is
/// neither.
pub(crate) static LOAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local entry = redis.call('HMGET', KEYS[1], 'v', 'd')
if entry[1] then return {1, entry[1], entry[2]} end
local gone = redis.call('GET', KEYS[2])
if gone then return {2, gone} end
return {0}
",
    )
});

/// KEYS: entry, tombstone. ARGV: value, expected version (the entry's; without an entry,
/// its tombstone's; 0: neither), last usable moment in Unix ms (0: unknown), grace in ms.
///
/// Writes the value as the next version if the entry is at the expected version, and returns
/// `{1, new version}` (numbers are written with `%d`: Lua's own formatting of a large
/// number is not an integer); else changes nothing and returns `{0, current version}`. An
/// absent entry is at its tombstone's version, so a holder that loaded "none" cannot write
/// over a login created and deleted since. A new entry's version starts above the server's
/// clock in microseconds and above its tombstone's, so a deleted and re-created entry never
/// repeats a version a holder may have loaded. The entry expires at `max(last usable moment,
/// server now) + grace`, never in the past, or never.
///
/// Repeatable: when the entry already holds this very value (a sealed value is unique, by its
/// random nonce), this save already ran (its answer was lost with a broken connection), and it
/// answers `{1, current version}` again without writing.
pub(crate) static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local stored = redis.call('HMGET', KEYS[1], 'v', 'd')
local current
if stored[1] then
  current = tonumber(stored[1])
  if stored[2] == ARGV[1] then return {1, current} end
else
  current = tonumber(redis.call('GET', KEYS[2]) or '0')
end
if current ~= tonumber(ARGV[2]) then return {0, current} end
local time = redis.call('TIME')
local now_us = tonumber(time[1]) * 1000000 + tonumber(time[2])
local next = current + 1
if not stored[1] then
  next = now_us
  if current >= next then next = current + 1 end
end
redis.call('HSET', KEYS[1], 'v', string.format('%d', next), 'd', ARGV[1])
redis.call('DEL', KEYS[2])
local last = tonumber(ARGV[3])
if last > 0 then
  local now_ms = math.floor(now_us / 1000)
  if now_ms > last then last = now_ms end
  redis.call('PEXPIREAT', KEYS[1], string.format('%d', last + tonumber(ARGV[4])))
else
  redis.call('PERSIST', KEYS[1])
end
return {1, next}
",
    )
});

/// KEYS: entry, tombstone. ARGV: how long the tombstone lasts, in ms. Deletes the entry and
/// leaves a tombstone holding its last version (so a re-created entry starts above it, a
/// holder that loaded an older version is fenced, and a holder that finds neither knows the
/// entry was lost rather than deleted). Deleting where there was neither entry nor tombstone
/// leaves one at the server's clock in microseconds, which fences a holder that loaded "none".
pub(crate) static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = redis.call('HGET', KEYS[1], 'v') or redis.call('GET', KEYS[2])
if not current then
  local time = redis.call('TIME')
  current = string.format('%d', tonumber(time[1]) * 1000000 + tonumber(time[2]))
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], current, 'PX', ARGV[1])
return 1
",
    )
});

/// KEYS: lock, entry, tombstone. ARGV: token, lease in ms. Takes the lock if it is free, and
/// returns `{1, version of the entry}` (without an entry, its tombstone's; 0: neither); else
/// `{0}`. Repeatable: a lock that already holds this token (this acquire ran, its answer was
/// lost with a broken connection) is ours; its lease starts again.
pub(crate) static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {0}
end
local version = redis.call('HGET', KEYS[2], 'v') or redis.call('GET', KEYS[3]) or '0'
return {1, tonumber(version)}
",
    )
});

/// KEYS: lock. ARGV: token, lease in ms. Extends the lease if the lock is still ours: 1,
/// else 0.
pub(crate) static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
",
    )
});

/// KEYS: lock. ARGV: token. Deletes the lock if it is still ours: 1, else 0.
pub(crate) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
    )
});

/// The answer of [`LOAD`].
pub(crate) fn parse_load(answer: Value) -> Result<crate::Raw, String> {
    let Value::Array(items) = answer else {
        return Err("the load script answered something other than an array".to_owned());
    };
    let mut items = items.into_iter();
    match items.next() {
        Some(Value::Int(0)) => Ok(crate::Raw::Missing),
        Some(Value::Int(2)) => {
            let version = match items.next() {
                Some(Value::BulkString(bytes)) => parse_version(&bytes),
                _ => None,
            }
            .ok_or("the entry's tombstone does not hold a version number")?;
            Ok(crate::Raw::Deleted { version })
        }
        Some(Value::Int(1)) => {
            let version = match items.next() {
                Some(Value::BulkString(bytes)) => parse_version(&bytes),
                _ => None,
            }
            .ok_or("the entry's version field `v` is not a number")?;
            let Some(Value::BulkString(data)) = items.next() else {
                return Err("the entry has no value field `d`".to_owned());
            };
            Ok(crate::Raw::Found { version, data })
        }
        _ => Err("the load script answered an unknown status".to_owned()),
    }
}

fn parse_version(bytes: &[u8]) -> Option<u64> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| text.parse::<u64>().ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    //! The scripts on a real redis-server, called as the one retry after a broken
    //! connection calls them: twice with the same arguments.

    use frameio_auth_testkit::redis_server::{RedisServer, RedisServerConfig, unique_name};
    use redis::aio::MultiplexedConnection;

    use super::*;

    struct Keys {
        entry: String,
        gone: String,
        lock: String,
    }

    async fn connect() -> Option<(RedisServer, MultiplexedConnection, Keys)> {
        let server = RedisServer::start_or_skip(RedisServerConfig::default())?;
        let connection = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let namespace = unique_name("scripts").unwrap();
        let keys = Keys {
            entry: format!("{namespace}:token:{{k}}"),
            gone: format!("{namespace}:gone:{{k}}"),
            lock: format!("{namespace}:lock:{{k}}"),
        };
        Some((server, connection, keys))
    }

    async fn save(
        connection: &mut MultiplexedConnection,
        keys: &Keys,
        value: &str,
        expected: u64,
    ) -> (u8, u64) {
        SAVE.key(&keys.entry)
            .key(&keys.gone)
            .arg(value)
            .arg(expected)
            .arg(0)
            .arg(60_000)
            .invoke_async(connection)
            .await
            .unwrap()
    }

    async fn acquire(connection: &mut MultiplexedConnection, keys: &Keys, token: &str) -> Vec<u64> {
        ACQUIRE
            .key(&keys.lock)
            .key(&keys.entry)
            .key(&keys.gone)
            .arg(token)
            .arg(60_000)
            .invoke_async(connection)
            .await
            .unwrap()
    }

    async fn delete(connection: &mut MultiplexedConnection, keys: &Keys) {
        let _: i64 = DELETE
            .key(&keys.entry)
            .key(&keys.gone)
            .arg(60_000)
            .invoke_async(connection)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_acquire_repeated_with_the_same_token_holds_the_lock_both_times() {
        let Some((_server, mut connection, keys)) = connect().await else {
            return;
        };
        let (landed, version) = save(&mut connection, &keys, "sealed-1", 0).await;
        assert_eq!(landed, 1);
        assert_eq!(
            acquire(&mut connection, &keys, "token-1").await,
            [1, version]
        );
        assert_eq!(
            acquire(&mut connection, &keys, "token-1").await,
            [1, version],
            "the repeat finds its own token: the lock is ours"
        );
        assert_eq!(
            acquire(&mut connection, &keys, "token-2").await,
            [0],
            "another holder's token still finds the lock taken"
        );
    }

    #[tokio::test]
    async fn a_fenced_save_repeated_with_the_same_value_succeeds_both_times() {
        let Some((_server, mut connection, keys)) = connect().await else {
            return;
        };
        let (landed, first) = save(&mut connection, &keys, "sealed-1", 0).await;
        assert_eq!(landed, 1);
        assert_eq!(
            save(&mut connection, &keys, "sealed-1", 0).await,
            (1, first),
            "a repeat of a save that landed is not reported as fenced"
        );
        let (landed, second) = save(&mut connection, &keys, "sealed-2", first).await;
        assert_eq!(landed, 1);
        assert!(second > first);
        assert_eq!(
            save(&mut connection, &keys, "sealed-2", first).await,
            (1, second)
        );
        // A different value at the old version is still fenced.
        assert_eq!(
            save(&mut connection, &keys, "sealed-3", first).await,
            (0, second)
        );
    }

    #[tokio::test]
    async fn a_save_fenced_on_none_does_not_land_over_a_login_created_and_deleted_since() {
        let Some((_server, mut connection, keys)) = connect().await else {
            return;
        };
        // A holder loaded "none" (fence 0); then a login was saved and logged out.
        let (_, login) = save(&mut connection, &keys, "login", 0).await;
        delete(&mut connection, &keys).await;
        assert_eq!(
            save(&mut connection, &keys, "stale", 0).await,
            (0, login),
            "the tombstone keeps the deleted version"
        );
        let loaded = LOAD
            .key(&keys.entry)
            .key(&keys.gone)
            .invoke_async(&mut connection)
            .await
            .unwrap();
        assert!(matches!(
            parse_load(loaded),
            Ok(crate::Raw::Deleted { version }) if version == login
        ));
        assert_eq!(acquire(&mut connection, &keys, "token-1").await, [1, login]);
        // A holder that saw the deletion may write over it, above the deleted version.
        let (landed, after) = save(&mut connection, &keys, "fresh", login).await;
        assert_eq!(landed, 1);
        assert!(after > login);
    }

    #[tokio::test]
    async fn deleting_nothing_fences_a_holder_that_loaded_none() {
        let Some((_server, mut connection, keys)) = connect().await else {
            return;
        };
        delete(&mut connection, &keys).await;
        let (landed, version) = save(&mut connection, &keys, "stale", 0).await;
        assert_eq!(landed, 0);
        assert!(version > 0);
    }
}
