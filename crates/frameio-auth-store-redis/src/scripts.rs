//! The Lua scripts: each runs atomically on the server (and on one Redis Cluster node: all
//! the keys a script touches share the entry's hash tag).

use std::sync::LazyLock;

use redis::{Script, Value};

/// KEYS: entry, tombstone. Returns `{1, version, data}` for an entry, `{2}` when there is
/// none but a tombstone (deleted on purpose), `{0}` when there is neither.
pub(crate) static LOAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local entry = redis.call('HMGET', KEYS[1], 'v', 'd')
if entry[1] then return {1, entry[1], entry[2]} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {2} end
return {0}
",
    )
});

/// KEYS: entry, tombstone. ARGV: value, expected version (0: no entry), last usable moment
/// in Unix ms (0: unknown), grace in ms.
///
/// Writes the value as the next version if the entry is at the expected version, and returns
/// `{1, new version}` (numbers are written with `%d`: Lua's own formatting of a large
/// number is not an integer); else changes nothing and returns `{0, current version}`. A new entry's
/// version starts above the server's clock in microseconds and above its tombstone's, so a
/// deleted and re-created entry never repeats a version a holder may have loaded. The entry
/// expires at `max(last usable moment, server now) + grace`, never in the past, or never.
pub(crate) static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[2]) then return {0, current} end
local time = redis.call('TIME')
local now_us = tonumber(time[1]) * 1000000 + tonumber(time[2])
local next = current + 1
if current == 0 then
  next = now_us
  local gone = tonumber(redis.call('GET', KEYS[2]) or '0')
  if gone >= next then next = gone + 1 end
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
/// leaves a tombstone holding its last version (so a re-created entry starts above it, and
/// a holder that finds neither knows the entry was lost rather than deleted).
pub(crate) static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = redis.call('HGET', KEYS[1], 'v') or redis.call('GET', KEYS[2]) or '0'
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], current, 'PX', ARGV[1])
return 1
",
    )
});

/// KEYS: lock, entry. ARGV: token, lease in ms. Takes the lock if it is free, and returns
/// `{1, version of the entry}` (0: none); else `{0}`.
pub(crate) static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, tonumber(redis.call('HGET', KEYS[2], 'v') or '0')}
end
return {0}
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
        Some(Value::Int(2)) => Ok(crate::Raw::Deleted),
        Some(Value::Int(1)) => {
            let version = match items.next() {
                Some(Value::BulkString(bytes)) => std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|text| text.parse::<u64>().ok()),
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
