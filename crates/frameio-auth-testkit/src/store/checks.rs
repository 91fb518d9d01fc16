//! The checks. Each returns `Err(message)` at the first violation; messages say what was
//! expected and what was found, never a token value.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use frameio_auth_core::{StoreLock, TokenKey, TokenSet, TokenType};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use super::fixtures::{differences, expect_set, full, minimal, raced, scopes, unicode_and_long};
use super::{Ops, Run};

/// Saves `tokens` under `key`, loads it back and compares.
async fn save_and_expect(
    run: &Run,
    key: &TokenKey,
    tokens: &TokenSet,
    label: &str,
) -> Result<(), String> {
    run.ops.save(key, tokens, label).await?;
    let loaded = run.ops.load(key, label).await?;
    expect_set(
        &format!("load({label}) after save"),
        tokens,
        loaded.as_ref(),
    )
}

async fn expect_none(ops: &Ops, key: &TokenKey, label: &str, why: &str) -> Result<(), String> {
    match ops.load(key, label).await? {
        None => Ok(()),
        Some(_) => Err(format!(
            "load({label}) {why}: expected None, found a token set"
        )),
    }
}

pub(super) async fn round_trip(run: &mut Run) -> Result<(), String> {
    let cases = [
        ("full-bearer", full("full-bearer", TokenType::Bearer)?),
        ("full-dpop", full("full-dpop", TokenType::parse("DPoP"))?),
        ("minimal", minimal("minimal")),
    ];
    for (label, tokens) in &cases {
        let key = run.key(label)?;
        save_and_expect(run, &key, tokens, label).await?;
    }
    // Loading again must give the same answer: a store must not hand out a set only once.
    for (label, tokens) in &cases {
        let key = run.key(label)?;
        let loaded = run.ops.load(&key, label).await?;
        expect_set(&format!("second load({label})"), tokens, loaded.as_ref())?;
    }
    Ok(())
}

pub(super) async fn missing_key(run: &mut Run) -> Result<(), String> {
    let never = run.key("never-saved")?;
    expect_none(
        &run.ops,
        &never,
        "never-saved",
        "of a key that was never saved",
    )
    .await?;

    // Keys that differ from a saved key in one part only must not see its set.
    let saved = run.register(run.builder("saved").scopes(scopes("openid AdobeID")?))?;
    run.ops
        .save(&saved, &full("saved", TokenType::Bearer)?, "saved")
        .await?;
    let near_misses = [
        (
            "fewer scopes",
            run.builder("saved").scopes(scopes("openid")?),
        ),
        ("no scopes", run.builder("saved")),
        (
            "more scopes",
            run.builder("saved").scopes(scopes("openid AdobeID email")?),
        ),
        (
            "another environment",
            TokenKey::builder(super::KEY_PROVIDER, "stage", super::KEY_CLIENT_ID)
                .profile(saved.profile())
                .scopes(saved.scopes().clone()),
        ),
        (
            "another client id",
            TokenKey::builder(
                super::KEY_PROVIDER,
                super::KEY_ENVIRONMENT,
                "another-client",
            )
            .profile(saved.profile())
            .scopes(saved.scopes().clone()),
        ),
        (
            "another provider",
            TokenKey::builder(
                format!("{}-other", super::KEY_PROVIDER),
                super::KEY_ENVIRONMENT,
                super::KEY_CLIENT_ID,
            )
            .profile(saved.profile())
            .scopes(saved.scopes().clone()),
        ),
    ];
    for (what, builder) in near_misses {
        let key = run.register(builder)?;
        expect_none(
            &run.ops,
            &key,
            what,
            "of a key that differs from a saved one only in its part named here",
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn overwrite(run: &mut Run) -> Result<(), String> {
    let key = run.key("overwritten")?;
    let bystander = run.key("bystander")?;
    let bystander_set = full("bystander", TokenType::Bearer)?;
    run.ops
        .save(&bystander, &bystander_set, "bystander")
        .await?;

    let first = full("first", TokenType::Bearer)?;
    let second = minimal("second").with_token_type(TokenType::parse("N_A"));
    let third = full("third", TokenType::parse("DPoP"))?.with_scopes(scopes("openid")?);
    save_and_expect(run, &key, &first, "first save").await?;
    run.ops.save(&key, &second, "second save").await?;
    match run.ops.load(&key, "after the second save").await? {
        None => {
            return Err(
                "load after the second save: expected the second set, found None".to_owned(),
            );
        }
        Some(found) if found == second => {}
        Some(found) if found == first => {
            return Err("load after the second save: found the first set; the second save was ignored or a stale value was returned".to_owned());
        }
        Some(found) => {
            return Err(format!(
                "load after the second save: expected exactly the second set (which has no refresh token, id token, scopes, subject or expiry), found: {}; fields of the first set must not survive an overwrite",
                differences(&second, &found).join("; ")
            ));
        }
    }
    run.ops.save(&key, &third, "third save").await?;
    let loaded = run.ops.load(&key, "after the third save").await?;
    expect_set("load after the third save", &third, loaded.as_ref())?;

    let loaded = run.ops.load(&bystander, "bystander").await?;
    expect_set(
        "load of another key after overwrites",
        &bystander_set,
        loaded.as_ref(),
    )
}

pub(super) async fn delete(run: &mut Run) -> Result<(), String> {
    let doomed = run.key("deleted")?;
    let kept = run.key("kept")?;
    let never = run.key("never-saved")?;
    let doomed_set = full("deleted", TokenType::Bearer)?;
    let kept_set = full("kept", TokenType::Bearer)?;
    run.ops.save(&doomed, &doomed_set, "deleted").await?;
    run.ops.save(&kept, &kept_set, "kept").await?;

    run.ops.delete(&doomed, "deleted").await?;
    expect_none(&run.ops, &doomed, "deleted", "after delete").await?;
    let loaded = run.ops.load(&kept, "kept").await?;
    expect_set(
        "load of another key after a delete",
        &kept_set,
        loaded.as_ref(),
    )?;

    run.ops
        .delete(&doomed, "deleted, a second time")
        .await
        .map_err(|e| format!("{e}; deleting a missing key must succeed"))?;
    run.ops
        .delete(&never, "never-saved")
        .await
        .map_err(|e| format!("{e}; deleting a missing key must succeed"))?;

    let again = minimal("saved-again");
    save_and_expect(run, &doomed, &again, "deleted, saved again").await
}

fn count(keys: &[TokenKey], key: &TokenKey) -> usize {
    keys.iter().filter(|k| *k == key).count()
}

pub(super) async fn keys(run: &mut Run) -> Result<(), String> {
    let plain = run.key("plain")?;
    let scoped = run.register(
        run.builder("scoped")
            .scopes(scopes("openid AdobeID offline_access")?),
    )?;
    let unicode = run.key("ünï ~/✓ 漢字 😀")?;
    let created = [
        ("plain", &plain),
        ("scoped", &scoped),
        ("unicode", &unicode),
    ];
    for (label, key) in created {
        run.ops.save(key, &minimal(label), label).await?;
    }

    let listed = run.ops.keys().await?;
    for (label, key) in created {
        match count(&listed, key) {
            1 => {}
            0 => {
                return Err(format!(
                    "keys(): expected it to list the saved key `{label}` ({key}), found {} keys without it",
                    listed.len()
                ));
            }
            n => {
                return Err(format!(
                    "keys(): expected the saved key `{label}` ({key}) once, found it {n} times"
                ));
            }
        }
    }

    run.ops.delete(&scoped, "scoped").await?;
    let listed = run.ops.keys().await?;
    if count(&listed, &scoped) != 0 {
        return Err(format!(
            "keys() after delete: expected the deleted key ({scoped}) to be gone, found it listed"
        ));
    }
    for (label, key) in [("plain", &plain), ("unicode", &unicode)] {
        if count(&listed, key) != 1 {
            return Err(format!(
                "keys() after deleting another key: expected `{label}` ({key}) listed once, found it {} times",
                count(&listed, key)
            ));
        }
    }
    Ok(())
}

pub(super) async fn unicode_and_long_values(run: &mut Run) -> Result<(), String> {
    let first = unicode_and_long("first")?;
    let second = unicode_and_long("second")?;
    let key = run.register(
        run.builder("ünicode 漢字 😀 \u{301}")
            .scopes(scopes("openid AdobeID")?),
    )?;
    save_and_expect(run, &key, &first, "unicode and long values").await?;
    save_and_expect(run, &key, &second, "unicode and long values, overwritten").await
}

/// Waits for every task in `tasks`; the first failure, panic or cancellation becomes the
/// message.
///
/// Each task bounds its own store calls with the operation deadline, so it always ends; the
/// wait here is only a backstop, sized for a task making `calls` slow calls in a row.
async fn join_all(
    ops: &Ops,
    tasks: &mut JoinSet<Result<(), String>>,
    calls: u32,
    what: &str,
) -> Result<(), String> {
    let limit = ops.limit.saturating_mul(calls.saturating_add(1));
    loop {
        match tokio::time::timeout(limit, tasks.join_next()).await {
            Err(_) => return Err(format!("{what}: tasks did not finish within {limit:?}")),
            Ok(None) => return Ok(()),
            Ok(Some(Ok(Ok(())))) => {}
            Ok(Some(Ok(Err(message)))) => return Err(format!("{what}: {message}")),
            Ok(Some(Err(join_error))) => {
                return Err(format!("{what}: a task failed: {join_error}"));
            }
        }
    }
}

/// Tasks that each save to a key of their own.
const DISTINCT: usize = 32;
/// Tasks that race on one key.
const RACERS: usize = 16;
/// Saves per racing task.
const RACER_ROUNDS: usize = 4;
/// Tasks that read the raced key meanwhile.
const READERS: usize = 8;
/// Loads per reading task.
const READS_PER_READER: u32 = 50;
/// Tasks that contend for one lock.
const CONTENDERS: usize = 8;

/// Reads the raced key while it is being overwritten: every set seen must be one of the sets
/// written, and once a set was seen the key must never look empty again.
async fn read_during_race(
    ops: Ops,
    key: TokenKey,
    written: Arc<Vec<TokenSet>>,
    start: Arc<Barrier>,
    reader: usize,
) -> Result<(), String> {
    start.wait().await;
    let mut seen_a_set = false;
    for _ in 0..READS_PER_READER {
        match ops.load(&key, &format!("raced, reader {reader}")).await? {
            None if seen_a_set => {
                return Err(format!(
                    "reader {reader} saw the raced key vanish (None) after it had held a set: save is not an atomic replace"
                ));
            }
            None => {}
            Some(found) => {
                if !written.contains(&found) {
                    return Err(format!(
                        "reader {reader} loaded a set that equals none of the {RACERS} sets written (a torn or mixed write?); {}",
                        closest(&written, &found)
                    ));
                }
                seen_a_set = true;
            }
        }
        tokio::task::yield_now().await;
    }
    Ok(())
}

pub(super) async fn concurrent_saves(run: &mut Run) -> Result<(), String> {
    let mut distinct = Vec::with_capacity(DISTINCT);
    for i in 0..DISTINCT {
        let key = run.key(&format!("distinct-{i}"))?;
        let tokens = full(&format!("distinct-{i}"), TokenType::Bearer)?;
        distinct.push((key, tokens));
    }
    let raced_key = run.key("raced")?;
    let written: Arc<Vec<TokenSet>> = Arc::new((0..RACERS).map(raced).collect::<Result<_, _>>()?);

    let start = Arc::new(Barrier::new(DISTINCT + RACERS + READERS));
    let mut tasks = JoinSet::new();
    for (i, (key, tokens)) in distinct.iter().enumerate() {
        let (ops, start, key, tokens) = (
            run.ops.clone(),
            Arc::clone(&start),
            key.clone(),
            tokens.clone(),
        );
        tasks.spawn(async move {
            start.wait().await;
            ops.save(&key, &tokens, &format!("distinct-{i}")).await
        });
    }
    for i in 0..RACERS {
        let (ops, start, key, written) = (
            run.ops.clone(),
            Arc::clone(&start),
            raced_key.clone(),
            Arc::clone(&written),
        );
        tasks.spawn(async move {
            start.wait().await;
            // Several rounds, so readers overlap with replacements, not only first writes.
            for round in 0..RACER_ROUNDS {
                ops.save(
                    &key,
                    &written[i],
                    &format!("raced, writer {i}, round {round}"),
                )
                .await?;
                tokio::task::yield_now().await;
            }
            Ok(())
        });
    }
    for reader in 0..READERS {
        tasks.spawn(read_during_race(
            run.ops.clone(),
            raced_key.clone(),
            Arc::clone(&written),
            Arc::clone(&start),
            reader,
        ));
    }
    join_all(&run.ops, &mut tasks, READS_PER_READER, "concurrent saves").await?;

    for (i, (key, tokens)) in distinct.iter().enumerate() {
        let label = format!("distinct-{i}");
        let loaded = run.ops.load(key, &label).await?;
        expect_set(
            &format!("after concurrent saves, load({label})"),
            tokens,
            loaded.as_ref(),
        )?;
    }
    match run.ops.load(&raced_key, "raced").await? {
        None => Err(format!(
            "after {RACERS} concurrent saves to one key, expected one of the sets written, found None"
        )),
        Some(found) if written.contains(&found) => Ok(()),
        Some(found) => Err(format!(
            "after {RACERS} concurrent saves to one key, expected exactly one of the sets written, whole; found a set equal to none of them; {}",
            closest(&written, &found)
        )),
    }
}

/// Names the written set closest to `found` and how they differ.
fn closest(written: &[TokenSet], found: &TokenSet) -> String {
    written
        .iter()
        .enumerate()
        .map(|(i, set)| (i, differences(set, found)))
        .min_by_key(|(_, diff)| diff.len())
        .map_or_else(String::new, |(i, diff)| {
            format!(
                "closest is writer {i}'s set, which differs in: {}",
                diff.join("; ")
            )
        })
}

/// Takes `lock(key)` and checks that the holder can still load, save and delete `key`:
/// refresh is lock, load, save, release. Returns the held lock.
async fn holder_can_use_its_key(ops: &Ops, key: &TokenKey) -> Result<Box<dyn StoreLock>, String> {
    let held = ops.lock(key, "locked").await?;
    let tokens = full("locked", TokenType::Bearer)?;
    let hint = "; the holder of lock(k) must be able to load, save and delete k";
    ops.save(key, &tokens, "locked, while holding its lock")
        .await
        .map_err(|e| format!("{e}{hint}"))?;
    let loaded = ops
        .load(key, "locked, while holding its lock")
        .await
        .map_err(|e| format!("{e}{hint}"))?;
    expect_set("load while holding the lock", &tokens, loaded.as_ref())?;
    ops.delete(key, "locked, while holding its lock")
        .await
        .map_err(|e| format!("{e}{hint}"))?;
    Ok(held)
}

/// While `held` is held, a second task's `lock(key)` must wait; once `held` is released, it
/// must get the lock.
async fn second_task_waits(
    ops: &Ops,
    key: &TokenKey,
    held: Box<dyn StoreLock>,
    probe: Duration,
) -> Result<(), String> {
    // A second task must wait while the first holds the lock, and get it once released.
    // The task answers whether the first holder was still inside when it got the lock.
    let first_inside = Arc::new(AtomicBool::new(true));
    let mut second = {
        let (ops, key, first_inside) = (ops.clone(), key.clone(), Arc::clone(&first_inside));
        tokio::spawn(async move {
            let guard = ops.lock(&key, "locked, by a second task").await?;
            let overlapped = first_inside.load(Ordering::SeqCst);
            drop(guard);
            Ok::<bool, String>(overlapped)
        })
    };
    match tokio::time::timeout(probe, &mut second).await {
        Err(_) => {} // Still waiting, as it should.
        Ok(Ok(Ok(_))) => {
            return Err(format!(
                "while one task held lock(k), a second task's lock(k) was granted (within {probe:?}) instead of waiting"
            ));
        }
        Ok(Ok(Err(message))) => {
            return Err(format!(
                "while one task held lock(k), a second task's lock(k) failed instead of waiting: {message}"
            ));
        }
        Ok(Err(join_error)) => return Err(format!("the second locking task failed: {join_error}")),
    }
    first_inside.store(false, Ordering::SeqCst);
    drop(held);
    let limit = ops.limit.saturating_mul(2);
    match tokio::time::timeout(limit, second).await {
        Err(_) => Err(format!(
            "after the first holder released lock(k), the waiting second lock(k) did not complete within {limit:?}"
        )),
        Ok(Err(join_error)) => Err(format!("the second locking task failed: {join_error}")),
        Ok(Ok(Err(message))) => Err(format!(
            "after the first holder released lock(k), the waiting second lock(k) failed: {message}"
        )),
        Ok(Ok(Ok(true))) => {
            Err("the second task was granted lock(k) while the first task still held it".to_owned())
        }
        Ok(Ok(Ok(false))) => Ok(()),
    }
}

/// Many contenders: at most one inside at any time, and every one gets its turn.
async fn contenders_take_turns(ops: &Ops, key: &TokenKey) -> Result<(), String> {
    let inside = Arc::new(AtomicBool::new(false));
    let entered = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(CONTENDERS));
    let mut tasks = JoinSet::new();
    for i in 0..CONTENDERS {
        let (ops, key, inside, entered, start) = (
            ops.clone(),
            key.clone(),
            Arc::clone(&inside),
            Arc::clone(&entered),
            Arc::clone(&start),
        );
        tasks.spawn(async move {
            start.wait().await;
            let guard = ops.lock(&key, &format!("locked, contender {i}")).await?;
            if inside.swap(true, Ordering::SeqCst) {
                return Err(format!(
                    "contender {i} got lock(k) while another contender was inside"
                ));
            }
            entered.fetch_add(1, Ordering::SeqCst);
            for _ in 0..4 {
                tokio::task::yield_now().await;
            }
            inside.store(false, Ordering::SeqCst);
            drop(guard);
            Ok(())
        });
    }
    join_all(ops, &mut tasks, 1, "contending for one lock").await?;
    let entered = entered.load(Ordering::SeqCst);
    if entered != CONTENDERS {
        return Err(format!(
            "expected all {CONTENDERS} contenders to get the lock in turn, found {entered}"
        ));
    }
    Ok(())
}

pub(super) async fn lock_exclusion(run: &mut Run) -> Result<(), String> {
    let key = run.key("locked")?;
    let ops = run.ops.clone();
    let held = holder_can_use_its_key(&ops, &key).await?;
    second_task_waits(&ops, &key, held, run.lock_probe).await?;
    contenders_take_turns(&ops, &key).await?;
    // Released for good: the lock can be taken again at once.
    drop(ops.lock(&key, "locked, after all contenders").await?);
    Ok(())
}

pub(super) async fn lock_independence(run: &mut Run) -> Result<(), String> {
    let first = run.register(run.builder("first").scopes(scopes("openid")?))?;
    let other_profile = run.register(run.builder("second").scopes(scopes("openid")?))?;
    let other_scopes = run.register(run.builder("first").scopes(scopes("openid AdobeID")?))?;
    let ops = run.ops.clone();

    let held = ops.lock(&first, "first").await?;
    for (what, key) in [
        ("another profile", &other_profile),
        ("the same profile but other scopes", &other_scopes),
    ] {
        let guard = ops.lock(key, what).await.map_err(|e| {
            format!("while lock(k1) was held, lock(k2) for a key with {what}: {e}; locks on different keys must not block each other")
        })?;
        drop(guard);
    }
    // Both held at once, in either order.
    let second = ops
        .lock(&other_profile, "another profile, held with the first")
        .await?;
    drop(held);
    let held = ops
        .lock(&first, "first, re-taken while another key is held")
        .await?;
    drop(second);
    drop(held);
    Ok(())
}
