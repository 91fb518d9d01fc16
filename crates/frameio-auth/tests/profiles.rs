//! Profiles: bad input (each case with its exact message), precedence, writing, secrets.
//! Never the real process environment or home directory: every variable comes from a table.
#![cfg(feature = "profiles")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails

use std::collections::HashMap;
use std::path::Path;

use frameio_auth::profiles::{
    Preset, Profile, ProfileError, ProfileKind, Profiles, SecretRef, StoreKind,
};
use frameio_auth_core::ClientSecret;
use frameio_auth_ims::ImsEnvironment;
use proptest::prelude::*;

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

fn none(_: &str) -> Option<String> {
    None
}

/// The message of parsing `text` as `config.toml`.
fn parse_error(text: &str) -> String {
    Profiles::parse("config.toml", text)
        .unwrap_err()
        .to_string()
}

/// The message of resolving profile `name` of `text` with `pairs`.
fn resolve_error(text: &str, name: Option<&str>, pairs: &[(&str, &str)]) -> String {
    Profiles::parse("config.toml", text)
        .unwrap()
        .resolve(name, &vars(pairs))
        .unwrap_err()
        .to_string()
}

const S2S: &str = "[profiles.work]\nkind = \"ims-s2s\"\nclient_id = \"cid\"\nscopes = \"openid\"\nsecret_env = \"WORK_SECRET\"\n";

#[test]
fn invalid_toml_names_file_line_and_column() {
    assert_eq!(
        parse_error("default = \"work\"\n[profiles.work\n"),
        "config.toml:2:15: invalid TOML: unclosed table, expected `]`"
    );
}

#[test]
fn unknown_top_level_field_suggests_a_near_miss() {
    assert_eq!(
        parse_error("defualt = \"work\"\n"),
        "config.toml:1:1: `defualt`: unknown field (did you mean `default`?); expected one of: default, profiles"
    );
    assert_eq!(
        parse_error("[profile.work]\n"),
        "config.toml:1:2: `profile`: unknown field (did you mean `profiles`?); expected one of: default, profiles"
    );
}

#[test]
fn unknown_profile_field_suggests_a_near_miss_or_lists_the_fields() {
    assert_eq!(
        parse_error("[profiles.work]\nkind = \"ims-s2s\"\n  clinet_id = \"x\"\n"),
        "config.toml:3:3: `profiles.work.clinet_id`: unknown field (did you mean `client_id`?); \
         expected one of: preset, kind, client_id, scopes, ims_env, v2_oauth_base_url, \
         api_base_url, redirect_uri, store, store_dir, keyring_service, redis_url, redis_url_env, redis_namespace, redis_key_id, redis_key_env, \
         redis_key_keyring, redis_plaintext, secret_env, secret_keyring, secret"
    );
    assert_eq!(
        parse_error("[profiles.work]\ncolour = \"blue\"\n"),
        "config.toml:2:1: `profiles.work.colour`: unknown field; \
         expected one of: preset, kind, client_id, scopes, ims_env, v2_oauth_base_url, \
         api_base_url, redirect_uri, store, store_dir, keyring_service, redis_url, redis_url_env, redis_namespace, redis_key_id, redis_key_env, \
         redis_key_keyring, redis_plaintext, secret_env, secret_keyring, secret"
    );
}

#[test]
fn unknown_values_list_what_is_expected() {
    assert_eq!(
        parse_error("[profiles.work]\nkind = \"ims-s2\"\n"),
        "config.toml:2:8: `profiles.work.kind`: unknown value `ims-s2` (did you mean `ims-s2s`?); \
         expected one of: ims-s2s, ims-web, ims-spa, ims-native, v2-developer-token, v2-oauth"
    );
    assert_eq!(
        parse_error("[profiles.work]\npreset = \"frameio\"\n"),
        "config.toml:2:10: `profiles.work.preset`: unknown value `frameio`; \
         expected one of: frameio-v4-s2s, cloud-storage-s2s, frameio-v4-user"
    );
    assert_eq!(
        parse_error("[profiles.work]\nstore = \"files\"\n"),
        "config.toml:2:9: `profiles.work.store`: unknown value `files` (did you mean `file`?); \
         expected one of: file, keyring, memory, redis"
    );
}

#[test]
fn wrong_types_say_what_is_expected() {
    assert_eq!(
        parse_error("[profiles.work]\nclient_id = 42\n"),
        "config.toml:2:13: `profiles.work.client_id`: expected a string, found an integer"
    );
    assert_eq!(
        parse_error("[profiles.work]\nclient_id = \"  \"\n"),
        "config.toml:2:13: `profiles.work.client_id`: is empty: expected a non-empty string"
    );
    assert_eq!(
        parse_error("[profiles.work]\nscopes = [\"openid\", 3]\n"),
        "config.toml:2:21: `profiles.work.scopes`: expected an array of non-empty strings, \
         such as [\"openid\", \"AdobeID\"]"
    );
    assert_eq!(
        parse_error("[profiles.work]\nscopes = true\n"),
        "config.toml:2:10: `profiles.work.scopes`: expected a string of comma-separated scopes \
         or an array of strings, found a boolean"
    );
    assert_eq!(
        parse_error("default = 1\n"),
        "config.toml:1:11: `default`: expected a string, found an integer"
    );
    assert_eq!(
        parse_error("profiles = 1\n"),
        "config.toml:1:12: `profiles`: expected a table of profiles, such as `[profiles.work]`"
    );
    assert_eq!(
        parse_error("[profiles]\nwork = 1\n"),
        "config.toml:2:8: `profiles.work`: expected a table, such as `[profiles.work]`"
    );
    assert_eq!(
        parse_error("[profiles.\"my profile\"]\n"),
        "config.toml:1:11: `profiles.my profile`: expected a profile name of 1 to 64 ASCII \
         letters, digits, `-` or `_`"
    );
}

#[test]
fn a_default_naming_no_profile_is_an_error() {
    assert_eq!(
        parse_error(&format!("default = \"wrok\"\n{S2S}")),
        "config.toml:1:11: `default`: no profile `wrok`: expected the name of a profile (work) \
         (did you mean `work`?)"
    );
}

#[test]
fn a_secret_is_given_once() {
    assert_eq!(
        parse_error("[profiles.work]\nsecret_env = \"A\"\nsecret_keyring = \"b\"\n"),
        "config.toml:3:18: `profiles.work.secret_keyring`: the secret is already given by \
         `secret_env`: expected one of secret_env, secret_keyring or secret"
    );
}

#[test]
fn missing_secret_variable_is_named() {
    assert_eq!(
        resolve_error(S2S, Some("work"), &[]),
        "profile `work`: the environment variable WORK_SECRET is not set (or empty); export it \
         with the secret"
    );
    assert_eq!(
        resolve_error(S2S, Some("work"), &[("WORK_SECRET", " ")]),
        "profile `work`: the environment variable WORK_SECRET is not set (or empty); export it \
         with the secret"
    );
}

#[test]
fn resolution_errors_say_what_to_do() {
    assert_eq!(
        resolve_error(S2S, Some("home"), &[]),
        "no profile `home` in config.toml (profiles: work)"
    );
    assert_eq!(
        resolve_error(S2S, None, &[]),
        "no profile was named: set `default = \"<name>\"` in config.toml or FRAMEIO_AUTH_PROFILE"
    );
    assert_eq!(
        resolve_error("[profiles.p]\nclient_id = \"x\"\n", Some("p"), &[]),
        "profile `p`: no kind: set `kind` (or a `preset`) in config.toml; expected one of: \
         ims-s2s, ims-web, ims-spa, ims-native, v2-developer-token, v2-oauth"
    );
    assert_eq!(
        resolve_error("[profiles.p]\nkind = \"ims-s2s\"\n", Some("p"), &[]),
        "profile `p`: no client id: set `client_id` in config.toml or export \
         FRAMEIO_AUTH_CLIENT_ID or IMS_CLIENT_ID"
    );
    assert_eq!(
        resolve_error(
            "[profiles.p]\nkind = \"ims-s2s\"\nclient_id = \"c\"\n",
            Some("p"),
            &[]
        ),
        "profile `p`: no secret: set `secret_env` to the name of the variable that holds it in \
         config.toml, or export FRAMEIO_AUTH_CLIENT_SECRET or IMS_CLIENT_SECRET"
    );
    assert_eq!(
        resolve_error(
            "[profiles.p]\nkind = \"ims-native\"\nclient_id = \"c\"\n",
            Some("p"),
            &[]
        ),
        "profile `p`: kind `ims-native` needs a redirect URI: set `redirect_uri` in config.toml \
         or export FRAMEIO_AUTH_REDIRECT_URI"
    );
    assert_eq!(
        resolve_error(
            "[profiles.p]\npreset = \"frameio-v4-s2s\"\nkind = \"ims-web\"\n",
            Some("p"),
            &[]
        ),
        "profile `p`: the preset `frameio-v4-s2s` does not fit kind `ims-web`: expected kind \
         `ims-s2s`"
    );
    #[cfg(not(feature = "store-keyring"))]
    assert_eq!(
        resolve_error(
            "[profiles.p]\nkind = \"ims-s2s\"\nclient_id = \"c\"\nsecret_keyring = \"k\"\n",
            Some("p"),
            &[]
        ),
        "profile `p`: `secret_keyring` needs the `store-keyring` feature of frameio-auth: \
         enable it, or export the secret and name its variable with `secret_env`"
    );
    assert_eq!(
        resolve_error(
            S2S,
            Some("work"),
            &[("WORK_SECRET", "s"), ("FRAMEIO_AUTH_IMS_ENV", "dev")]
        ),
        "profile `work`: FRAMEIO_AUTH_IMS_ENV: unknown IMS environment `dev`: use `prod`, `stage` or a base URL"
    );
    assert_eq!(
        resolve_error(
            S2S,
            Some("work"),
            &[("WORK_SECRET", "s"), ("FRAMEIO_AUTH_STORE", "disk")]
        ),
        "profile `work`: FRAMEIO_AUTH_STORE: unknown store `disk`; expected one of: file, \
         keyring, memory, redis"
    );
}

#[test]
fn redis_and_keyring_stores_say_what_is_available() {
    let profiles = Profiles::parse("config.toml", &format!("{S2S}store = \"redis\"\n")).unwrap();
    let err = profiles
        .manager(Some("work"), &vars(&[("WORK_SECRET", "s")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "profile `work`: store `redis` needs a URL: export it and name its variable with \
         `redis_url_env` in config.toml, or export FRAMEIO_AUTH_REDIS_URL"
    );
    #[cfg(not(feature = "store-keyring"))]
    {
        let profiles =
            Profiles::parse("config.toml", &format!("{S2S}store = \"keyring\"\n")).unwrap();
        let err = profiles
            .manager(Some("work"), &vars(&[("WORK_SECRET", "s")]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "profile `work`: store `keyring` needs the `store-keyring` feature of frameio-auth: \
             enable it, or use store `file`"
        );
    }
}

const REDIS_KEY_BASE64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[test]
fn a_redis_store_takes_its_url_namespace_and_key_by_reference() {
    let text = format!(
        "{S2S}store = \"redis\"\nredis_url_env = \"WORK_REDIS_URL\"\nredis_namespace = \"work-prod\"\n\
         redis_key_env = \"WORK_REDIS_KEY\"\nredis_key_id = \"2026-12\"\n"
    );
    let profiles = Profiles::parse("config.toml", &text).unwrap();
    let url = "redis://fleet:LEAKCHECK-redis-password@127.0.0.1:6379/0";
    let env = [
        ("WORK_SECRET", "s"),
        ("WORK_REDIS_URL", url),
        ("WORK_REDIS_KEY", REDIS_KEY_BASE64),
    ];
    let resolved = profiles.resolve(Some("work"), &vars(&env)).unwrap();
    let redis = resolved.redis.as_ref().unwrap();
    assert_eq!(redis.url.expose_secret(), url);
    assert_eq!(redis.namespace.as_deref(), Some("work-prod"));
    assert_eq!(redis.key.as_ref().unwrap().0, "2026-12");
    let shown = format!("{resolved:?}");
    assert!(
        !shown.contains("LEAKCHECK") && !shown.contains(REDIS_KEY_BASE64),
        "{shown}"
    );

    // The environment overrides the URL and the namespace.
    let resolved = profiles
        .resolve(
            Some("work"),
            &vars(&[
                ("WORK_SECRET", "s"),
                ("WORK_REDIS_KEY", REDIS_KEY_BASE64),
                ("FRAMEIO_AUTH_REDIS_URL", "redis://elsewhere:6379"),
                ("FRAMEIO_AUTH_REDIS_NAMESPACE", "other"),
            ]),
        )
        .unwrap();
    let redis = resolved.redis.unwrap();
    assert_eq!(redis.url.expose_secret(), "redis://elsewhere:6379");
    assert_eq!(redis.namespace.as_deref(), Some("other"));

    // What is missing is named.
    assert_eq!(
        resolve_error(
            &text,
            Some("work"),
            &[("WORK_SECRET", "s"), ("WORK_REDIS_URL", url)]
        ),
        "profile `work`: the environment variable WORK_REDIS_KEY is not set (or empty); export \
         it with the secret"
    );
    let keyless = format!("{S2S}store = \"redis\"\nredis_url = \"redis://127.0.0.1:6379\"\n");
    assert_eq!(
        resolve_error(&keyless, Some("work"), &[("WORK_SECRET", "s")]),
        "profile `work`: store `redis` needs an encryption key: export 32 random bytes in base64 \
         (`head -c 32 /dev/urandom | base64`) and name the variable with `redis_key_env` in \
         config.toml, or opt out with `redis_plaintext = true`"
    );
    let plaintext = format!("{keyless}redis_plaintext = true\n");
    let resolved = Profiles::parse("config.toml", &plaintext)
        .unwrap()
        .resolve(Some("work"), &vars(&[("WORK_SECRET", "s")]))
        .unwrap();
    assert!(resolved.redis.unwrap().key.is_none());
}

#[test]
fn a_redis_url_with_a_password_or_two_key_sources_are_refused_in_the_file() {
    assert_eq!(
        parse_error("[profiles.w]\nredis_url = \"redis://u:LEAKCHECK-pw@h:6379\"\n"),
        "config.toml:2:13: `profiles.w.redis_url`: this URL holds a password: keep it out of the \
         file; export the URL and name its variable with `redis_url_env`"
    );
    assert_eq!(
        parse_error("[profiles.w]\nredis_key_env = \"K\"\nredis_plaintext = true\n"),
        "config.toml:3:19: `profiles.w.redis_plaintext`: already given by `redis_key_env`: \
         expected one of redis_key_env, redis_key_keyring, redis_plaintext"
    );
    assert_eq!(
        parse_error("[profiles.w]\nredis_plaintext = \"yes\"\n"),
        "config.toml:2:19: `profiles.w.redis_plaintext`: expected `true` or `false`, found a string"
    );
    assert_eq!(
        parse_error("[profiles.w]\nredis_url_env = \"redis://h\"\n"),
        "config.toml:2:17: `profiles.w.redis_url_env`: expected the name of an environment \
         variable (letters, digits and `_`, not starting with a digit); if this is the secret \
         itself, remove it from the file, export it, and name its variable here"
    );
}

#[cfg(feature = "store-redis")]
#[tokio::test]
async fn a_redis_profile_opens_a_redis_store_that_connects_on_first_use() {
    let text = format!(
        "{S2S}store = \"redis\"\nredis_url_env = \"WORK_REDIS_URL\"\nredis_namespace = \"work-prod\"\n\
         redis_key_env = \"WORK_REDIS_KEY\"\n"
    );
    let profiles = Profiles::parse("config.toml", &text).unwrap();
    let resolved = profiles
        .resolve(
            Some("work"),
            &vars(&[
                ("WORK_SECRET", "s"),
                ("WORK_REDIS_URL", "redis://fleet:LEAKCHECK-pw@127.0.0.1:1/0"),
                ("WORK_REDIS_KEY", REDIS_KEY_BASE64),
            ]),
        )
        .unwrap();
    let store = resolved.open_store().unwrap();
    // Nothing listens on port 1: the first use says so, naming the address without the
    // password.
    let key = frameio_auth_core::TokenKey::builder("ims", "prod", "cid")
        .build()
        .unwrap();
    match store.load(&key).await {
        Err(frameio_auth_core::StoreError::Unavailable { backend, message }) => {
            assert_eq!(backend, "redis");
            assert!(message.contains("redis://fleet@127.0.0.1:1/0"), "{message}");
            assert!(!message.contains("LEAKCHECK"), "{message}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let bad_key = profiles
        .resolve(
            Some("work"),
            &vars(&[
                ("WORK_SECRET", "s"),
                ("WORK_REDIS_URL", "redis://127.0.0.1:1"),
                ("WORK_REDIS_KEY", "c2hvcnQ="),
            ]),
        )
        .unwrap()
        .open_store()
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        bad_key,
        "profile `work`: invalid encryption key `default`: it decodes to 5 bytes, not 32; make \
         one with `head -c 32 /dev/urandom | base64`"
    );
}

#[test]
fn redis_fields_are_written_back() {
    use frameio_auth::profiles::{RedisKeyRef, RedisUrlRef};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "").unwrap();
    let mut profiles = Profiles::load_from(&path).unwrap();
    profiles
        .set(
            "fleet",
            Profile {
                kind: Some(ProfileKind::ImsS2s),
                store: Some(StoreKind::Redis),
                redis_url: Some(RedisUrlRef::Env("FLEET_REDIS_URL".into())),
                redis_namespace: Some("fleet".into()),
                redis_key: Some(RedisKeyRef::Plaintext),
                ..Profile::default()
            },
        )
        .unwrap();
    profiles.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("redis_url_env = \"FLEET_REDIS_URL\""),
        "{text}"
    );
    assert!(text.contains("redis_plaintext = true"), "{text}");
    let back = Profiles::parse("config.toml", &text).unwrap();
    let fleet = back.get("fleet").unwrap();
    assert_eq!(fleet.redis_key, Some(RedisKeyRef::Plaintext));
    assert_eq!(fleet.redis_namespace.as_deref(), Some("fleet"));
    profiles
        .set(
            "fleet",
            Profile {
                redis_key: Some(RedisKeyRef::Env("FLEET_KEY".into())),
                ..fleet.clone()
            },
        )
        .unwrap();
    profiles.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("redis_plaintext"), "{text}");
    assert!(text.contains("redis_key_env = \"FLEET_KEY\""), "{text}");
}

#[test]
fn environment_variables_win_over_provider_variables_over_the_file_over_the_preset() {
    let text = "[profiles.p]\npreset = \"frameio-v4-s2s\"\nclient_id = \"file-id\"\n\
                secret_env = \"P_SECRET\"\nims_env = \"stage\"\n";
    let profiles = Profiles::parse("config.toml", text).unwrap();
    let resolve = |pairs: &[(&str, &str)]| profiles.resolve(Some("p"), &vars(pairs)).unwrap();

    // The file over the preset (scopes from the preset, the rest from the file).
    let p = resolve(&[("P_SECRET", "s")]);
    assert_eq!(p.kind, ProfileKind::ImsS2s);
    assert_eq!(p.client_id.as_deref(), Some("file-id"));
    assert_eq!(p.scopes.as_deref(), Some("openid,AdobeID,frame.s2s.all"));
    assert_eq!(p.ims_env, ImsEnvironment::Stage);
    assert_eq!(p.secret.as_ref().unwrap().expose_secret(), "s");
    assert_eq!(p.store, StoreKind::File);

    // Provider variables over the file.
    let p = resolve(&[
        ("P_SECRET", "s"),
        ("IMS_CLIENT_ID", "ims-id"),
        ("IMS_CLIENT_SECRET", "ims-secret"),
        ("IMS_SCOPES", "openid"),
        ("IMS_ENV", "prod"),
    ]);
    assert_eq!(p.client_id.as_deref(), Some("ims-id"));
    assert_eq!(p.secret.as_ref().unwrap().expose_secret(), "ims-secret");
    assert_eq!(p.scopes.as_deref(), Some("openid"));
    assert_eq!(p.ims_env, ImsEnvironment::Production);
    let p = resolve(&[
        ("P_SECRET", "s"),
        ("IMS_ENV", "prod"),
        ("IMS_BASE_URL", "http://127.0.0.1:9"),
    ]);
    assert_eq!(p.ims_env.base_url(), "http://127.0.0.1:9");

    // FRAMEIO_AUTH_* over the provider variables.
    let p = resolve(&[
        ("IMS_CLIENT_ID", "ims-id"),
        ("IMS_CLIENT_SECRET", "ims-secret"),
        ("IMS_SCOPES", "openid"),
        ("IMS_BASE_URL", "http://127.0.0.1:9"),
        ("FRAMEIO_AUTH_CLIENT_ID", "fa-id"),
        ("FRAMEIO_AUTH_CLIENT_SECRET", "fa-secret"),
        ("FRAMEIO_AUTH_SCOPES", "AdobeID"),
        ("FRAMEIO_AUTH_IMS_ENV", "stage"),
        ("FRAMEIO_AUTH_STORE", "memory"),
        ("FRAMEIO_AUTH_STORE_DIR", "/somewhere"),
    ]);
    assert_eq!(p.client_id.as_deref(), Some("fa-id"));
    assert_eq!(p.secret.as_ref().unwrap().expose_secret(), "fa-secret");
    assert_eq!(p.scopes.as_deref(), Some("AdobeID"));
    assert_eq!(p.ims_env, ImsEnvironment::Stage);
    assert_eq!(p.store, StoreKind::Memory);
    assert_eq!(p.store_dir.as_deref(), Some(Path::new("/somewhere")));
}

#[test]
fn cloud_storage_preset_reads_its_vendor_variables() {
    let profiles = Profiles::parse(
        "config.toml",
        "[profiles.cs]\npreset = \"cloud-storage-s2s\"\n",
    )
    .unwrap();
    let p = profiles
        .resolve(
            Some("cs"),
            &vars(&[
                ("CLOUD_STORAGE_CLIENT_ID", "cs-id"),
                ("CLOUD_STORAGE_CLIENT_SECRET", "cs-secret"),
                ("IMS_CLIENT_ID", "not-this-one"),
            ]),
        )
        .unwrap();
    assert_eq!(p.kind, ProfileKind::ImsS2s);
    assert_eq!(p.client_id.as_deref(), Some("cs-id"));
    assert_eq!(p.secret.as_ref().unwrap().expose_secret(), "cs-secret");
    assert_eq!(
        p.scopes.as_deref(),
        Some("openid,AdobeID,offline_access,creative_sdk")
    );
    assert_eq!(
        profiles.resolve(Some("cs"), &none).unwrap_err().to_string(),
        "profile `cs`: no client id: set `client_id` in config.toml or export \
         FRAMEIO_AUTH_CLIENT_ID or CLOUD_STORAGE_CLIENT_ID"
    );
}

#[test]
fn frameio_auth_profile_chooses_over_the_default_and_a_named_profile_over_both() {
    let text = format!(
        "default = \"work\"\n{S2S}[profiles.dev]\nkind = \"v2-developer-token\"\nsecret_env = \"DEV_TOKEN\"\n"
    );
    let profiles = Profiles::parse("config.toml", &text).unwrap();
    let pairs = [("WORK_SECRET", "s"), ("DEV_TOKEN", "t")];
    assert_eq!(profiles.resolve(None, &vars(&pairs)).unwrap().name, "work");
    let with_env = [
        ("WORK_SECRET", "s"),
        ("DEV_TOKEN", "t"),
        ("FRAMEIO_AUTH_PROFILE", "dev"),
    ];
    let dev = profiles.resolve(None, &vars(&with_env)).unwrap();
    assert_eq!(dev.kind, ProfileKind::V2DeveloperToken);
    assert_eq!(
        profiles
            .resolve(Some("work"), &vars(&with_env))
            .unwrap()
            .name,
        "work"
    );
    assert_eq!(profiles.default_name(), Some("work"));
    assert_eq!(profiles.names().collect::<Vec<_>>(), ["work", "dev"]);
}

#[test]
fn every_kind_builds_a_manager() {
    let text = "\
[profiles.s2s]
kind = \"ims-s2s\"
client_id = \"c\"
scopes = [\"openid\", \"AdobeID\"]
store = \"memory\"
[profiles.web]
kind = \"ims-web\"
client_id = \"c\"
preset = \"frameio-v4-user\"
redirect_uri = \"https://localhost:8443/callback\"
store = \"memory\"
[profiles.spa]
kind = \"ims-spa\"
client_id = \"c\"
scopes = \"openid\"
redirect_uri = \"https://localhost:8443/callback\"
store = \"memory\"
[profiles.native]
preset = \"frameio-v4-user\"
client_id = \"c\"
redirect_uri = \"http://127.0.0.1/callback\"
store = \"memory\"
[profiles.dev]
kind = \"v2-developer-token\"
store = \"memory\"
[profiles.v2]
kind = \"v2-oauth\"
client_id = \"c\"
scopes = \"asset.read offline\"
redirect_uri = \"https://localhost:8443/callback\"
v2_oauth_base_url = \"https://applications.frame.io\"
store = \"memory\"
";
    let profiles = Profiles::parse("config.toml", text).unwrap();
    let env = vars(&[("FRAMEIO_AUTH_CLIENT_SECRET", "secret-value")]);
    for name in ["s2s", "web", "spa", "native", "dev", "v2"] {
        let manager = profiles.manager(Some(name), &env);
        assert!(manager.is_ok(), "{name}: {:?}", manager.err());
        assert_eq!(
            manager.unwrap().key().profile(),
            name,
            "the key's profile is the name"
        );
    }
    assert_eq!(
        profiles.resolve(Some("native"), &env).unwrap().kind,
        ProfileKind::ImsNative
    );
}

#[test]
fn no_secret_in_debug_or_errors() {
    let secret = "very-secret-value-1234";
    let profile = Profile {
        kind: Some(ProfileKind::ImsS2s),
        secret: Some(SecretRef::Inline(ClientSecret::new(secret))),
        ..Profile::default()
    };
    assert!(!format!("{profile:?}").contains(secret));
    let profiles = Profiles::parse("config.toml", S2S).unwrap();
    let resolved = profiles
        .resolve(Some("work"), &vars(&[("WORK_SECRET", secret)]))
        .unwrap();
    assert!(!format!("{resolved:?}").contains(secret));
    assert!(!format!("{profiles:?}").contains(secret));
    let mut changed = profiles.clone();
    changed.set("work", profile).unwrap();
    assert!(!format!("{changed:?}").contains(secret), "{changed:?}");
    let err = changed
        .resolve(Some("work"), &vars(&[("FRAMEIO_AUTH_IMS_ENV", "nowhere")]))
        .unwrap_err();
    assert!(!err.to_string().contains(secret));
    assert!(!format!("{err:?}").contains(secret));
    // An inline secret in a file others may read: refused, without echoing it.
    let err = Profiles::parse(
        "config.toml",
        &format!("[profiles.p]\nsecret = \"{secret}\"\n"),
    )
    .unwrap_err();
    assert!(!err.to_string().contains(secret));
    assert!(!format!("{err:?}").contains(secret));
}

#[cfg(unix)]
#[test]
fn inline_secret_only_in_a_private_file_with_a_warning_naming_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "[profiles.p]\nkind = \"ims-s2s\"\nclient_id = \"c\"\nscopes = \"openid\"\nsecret = \"inline-secret-1234\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(
        Profiles::load_from(&path).unwrap_err().to_string(),
        format!(
            "{}:5:10: `profiles.p.secret`: an inline secret is only accepted in a private file: \
             run `chmod 600 {}`, or better, export the secret and name its variable with \
             `secret_env`",
            path.display(),
            path.display()
        )
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let capture = frameio_auth_testkit::tracing_capture::Capture::install();
    let profiles = Profiles::load_from(&path).unwrap();
    let resolved = profiles.resolve(Some("p"), &none).unwrap();
    assert_eq!(
        resolved.secret.unwrap().expose_secret(),
        "inline-secret-1234"
    );
    let logged = capture.text();
    assert!(logged.contains("inline secret"), "{logged}");
    assert!(logged.contains(&path.display().to_string()), "{logged}");
    assert!(!logged.contains("inline-secret-1234"), "{logged}");
}

#[test]
fn a_missing_file_says_how_to_point_at_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.toml");
    let config = path.to_str().unwrap().to_owned();
    let err = Profiles::load_with(&vars(&[("FRAMEIO_AUTH_CONFIG", &config)])).unwrap_err();
    assert!(matches!(err, ProfileError::Read { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "cannot read {config}: No such file or directory (os error 2); create it, or set \
             FRAMEIO_AUTH_CONFIG to its path"
        )
    );
    assert_eq!(
        Profiles::default_path_with(&vars(&[("FRAMEIO_AUTH_CONFIG", &config)])).unwrap(),
        path
    );
}

#[test]
fn edits_keep_comments_and_order_and_write_0600_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let original = "\
# My frameio-auth profiles.
default = \"work\" # the one I use most

# Work account.
[profiles.work]
kind = \"ims-s2s\"   # server to server
client_id = \"old-id\" # from the console
scopes = \"openid\"
secret_env = \"WORK_SECRET\"

# Old V2 token.
[profiles.legacy]
kind = \"v2-developer-token\"
secret_env = \"FRAMEIO_TOKEN\"
";
    std::fs::write(&path, original).unwrap();
    let mut profiles = Profiles::load_from(&path).unwrap();

    let mut work = profiles.get("work").unwrap().clone();
    work.client_id = Some("new-id".to_owned());
    work.store = Some(StoreKind::Memory);
    profiles.set("work", work).unwrap();
    assert!(profiles.remove("legacy"));
    assert!(!profiles.remove("legacy"));
    profiles
        .set(
            "cs",
            Profile {
                preset: Some(Preset::CloudStorageS2s),
                ..Profile::default()
            },
        )
        .unwrap();
    profiles.save().unwrap();

    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        written,
        "\
# My frameio-auth profiles.
default = \"work\" # the one I use most

# Work account.
[profiles.work]
kind = \"ims-s2s\"   # server to server
client_id = \"new-id\" # from the console
scopes = \"openid\"
secret_env = \"WORK_SECRET\"
store = \"memory\"

[profiles.cs]
preset = \"cloud-storage-s2s\"
"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // No temporary file is left behind, and the file reads back the same.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let again = Profiles::load_from(&path).unwrap();
    assert_eq!(again.names().collect::<Vec<_>>(), ["work", "cs"]);
    assert_eq!(
        again.get("work").unwrap().client_id.as_deref(),
        Some("new-id")
    );

    // Removing the default profile removes `default`; a new default goes first.
    let mut profiles = again;
    assert!(profiles.remove("work"));
    assert_eq!(profiles.default_name(), None);
    profiles.set_default(Some("cs"));
    profiles.save().unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.starts_with("default = \"cs\"\n"), "{written}");
    assert_eq!(
        Profiles::load_from(&path).unwrap().default_name(),
        Some("cs")
    );
}

#[test]
fn a_new_file_is_created_with_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("config.toml");
    let mut profiles = Profiles::new(&path);
    profiles
        .set(
            "work",
            Profile {
                preset: Some(Preset::FrameioV4S2s),
                client_id: Some("cid".to_owned()),
                secret: Some(SecretRef::Env("WORK_SECRET".to_owned())),
                ..Profile::default()
            },
        )
        .unwrap();
    profiles.set_default(Some("work"));
    profiles.save().unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "default = \"work\"\n\n[profiles.work]\npreset = \"frameio-v4-s2s\"\nclient_id = \"cid\"\nsecret_env = \"WORK_SECRET\"\n"
    );
    assert_eq!(
        profiles
            .set("bad name", Profile::default())
            .unwrap_err()
            .to_string(),
        "profile `bad name`: expected a profile name of 1 to 64 ASCII letters, digits, `-` or `_`"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// No input panics: arbitrary text, and text made of the file's own vocabulary.
    #[test]
    fn no_input_panics(text in "\\PC{0,200}") {
        if let Ok(profiles) = Profiles::parse("config.toml", &text) {
            let _ = profiles.resolve(None, &none);
        }
    }

    #[test]
    fn no_near_valid_input_panics(
        lines in proptest::collection::vec(
            prop_oneof![
                Just("[profiles.a]".to_owned()),
                Just("[profiles]".to_owned()),
                Just("default = \"a\"".to_owned()),
                "(kind|preset|store|scopes|client_id|secret|secret_env|ims_env|redirect_uri|colour) = (\"[a-z0-9:/.-]{0,12}\"|1|\\[\"x\"\\]|\\{\\})",
                "\\PC{0,20}",
            ],
            0..12,
        ),
        pairs in proptest::collection::vec(("[A-Z_]{1,12}", "\\PC{0,12}"), 0..4),
    ) {
        let text = lines.join("\n");
        if let Ok(profiles) = Profiles::parse("config.toml", &text) {
            // Edits of any valid file, and writing it, do not panic either.
            let dir = tempfile::tempdir().unwrap();
            let mut edited = Profiles::parse(dir.path().join("config.toml"), &text).unwrap();
            let profile = Profile {
                kind: Some(ProfileKind::ImsS2s),
                ..Profile::default()
            };
            let _ = edited.set("a", profile);
            let _ = edited.remove("b");
            edited.set_default(Some("a"));
            let _ = edited.save();
            let _ = Profiles::load_from(dir.path().join("config.toml"));
            let lookup = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            for name in [None, Some("a")] {
                if let Ok(resolved) = profiles.resolve(name, &lookup) {
                    let _ = resolved.manager();
                }
            }
        }
    }
}

#[cfg(feature = "store-keyring")]
#[test]
fn a_secret_can_live_in_the_keyring() {
    use frameio_auth_store_keyring::{KeyringStore, keyring_core};

    let locks = tempfile::tempdir().unwrap();
    let keyring = KeyringStore::builder()
        .credential_store(keyring_core::mock::Store::new().unwrap())
        .lock_dir(locks.path())
        .build()
        .unwrap();
    let text = "[profiles.p]\nkind = \"ims-s2s\"\nclient_id = \"c\"\nscopes = \"openid\"\n\
                secret_keyring = \"p-secret\"\n";
    let profiles = Profiles::parse("config.toml", text)
        .unwrap()
        .with_keyring(keyring.clone());
    assert_eq!(
        profiles.resolve(Some("p"), &none).unwrap_err().to_string(),
        "profile `p`: the keyring has no secret `p-secret` (service `frameio-auth`): store it \
         there, or export it and name its variable with `secret_env`"
    );
    keyring
        .write_secret("p-secret", &ClientSecret::new("from-the-keyring"))
        .unwrap();
    let resolved = profiles.resolve(Some("p"), &none).unwrap();
    assert_eq!(resolved.secret.unwrap().expose_secret(), "from-the-keyring");
    // FRAMEIO_AUTH_CLIENT_SECRET still wins.
    let resolved = profiles
        .resolve(Some("p"), &vars(&[("FRAMEIO_AUTH_CLIENT_SECRET", "env")]))
        .unwrap();
    assert_eq!(resolved.secret.unwrap().expose_secret(), "env");
}

#[test]
fn inline_tables_are_read_and_edited() {
    let text = "profiles = { work = { kind = \"ims-s2s\", client_id = \"c\" } }\n";
    let mut profiles = Profiles::parse("config.toml", text).unwrap();
    assert_eq!(
        profiles.get("work").unwrap().client_id.as_deref(),
        Some("c")
    );
    assert_eq!(
        parse_error("profiles = { work = { kind = \"ims-s2s\", clientid = \"c\" } }\n"),
        "config.toml:1:41: `profiles.work.clientid`: unknown field (did you mean `client_id`?); \
         expected one of: preset, kind, client_id, scopes, ims_env, v2_oauth_base_url, \
         api_base_url, redirect_uri, store, store_dir, keyring_service, redis_url, redis_url_env, redis_namespace, redis_key_id, redis_key_env, \
         redis_key_keyring, redis_plaintext, secret_env, secret_keyring, secret"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    profiles = Profiles::load_from(&path).unwrap();
    let mut work = profiles.get("work").unwrap().clone();
    work.client_id = Some("d".to_owned());
    profiles.set("work", work).unwrap();
    profiles.set("home", Profile::default()).unwrap();
    profiles.save().unwrap();
    let again = Profiles::load_from(&path).unwrap();
    assert_eq!(again.names().collect::<Vec<_>>(), ["work", "home"]);
    assert_eq!(again.get("work").unwrap().client_id.as_deref(), Some("d"));
    assert_eq!(again.get("work").unwrap().kind, Some(ProfileKind::ImsS2s));
}

#[test]
fn public_clients_look_up_no_secret_and_a_developer_token_reads_frameio_token() {
    let text = "[profiles.n]\npreset = \"frameio-v4-user\"\nclient_id = \"c\"\n\
                redirect_uri = \"http://127.0.0.1/cb\"\nsecret_env = \"UNSET\"\n\
                [profiles.d]\nkind = \"v2-developer-token\"\nsecret_env = \"D_TOKEN\"\n";
    let profiles = Profiles::parse("config.toml", text).unwrap();
    let native = profiles.resolve(Some("n"), &none).unwrap();
    assert!(native.secret.is_none());
    let dev = profiles
        .resolve(
            Some("d"),
            &vars(&[("FRAMEIO_TOKEN", "provider"), ("D_TOKEN", "file")]),
        )
        .unwrap();
    assert_eq!(dev.secret.unwrap().expose_secret(), "provider");
    let dev = profiles
        .resolve(Some("d"), &vars(&[("D_TOKEN", "file")]))
        .unwrap();
    assert_eq!(dev.secret.unwrap().expose_secret(), "file");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// What `set` writes, `load_from` reads back: quotes, backslashes, `#` and non-ASCII
    /// text survive the file.
    #[test]
    fn written_profiles_read_back(
        client_id in "[a-zA-Z0-9\"'\\\\#=\\[\\]{}.,é-][a-zA-Z0-9 \"'\\\\#=\\[\\]{}.,é-]{0,12}[a-zA-Z0-9\"'\\\\#]",
        scopes in proptest::option::of("[a-z_.]{1,10}(,[a-z_.]{1,10}){0,3}"),
        store in proptest::option::of(proptest::sample::select(StoreKind::ALL.to_vec())),
        kind in proptest::option::of(proptest::sample::select(ProfileKind::ALL.to_vec())),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut profiles = Profiles::new(&path);
        let profile = Profile {
            kind,
            client_id: Some(client_id.clone()),
            scopes: scopes.clone(),
            store,
            secret: Some(SecretRef::Env("A_SECRET".to_owned())),
            ..Profile::default()
        };
        profiles.set("p", profile).unwrap();
        profiles.save().unwrap();
        let again = Profiles::load_from(&path).unwrap();
        let read = again.get("p").unwrap();
        prop_assert_eq!(read.client_id.as_deref(), Some(client_id.as_str()));
        prop_assert_eq!(&read.scopes, &scopes);
        prop_assert_eq!(read.store, store);
        prop_assert_eq!(read.kind, kind);
        prop_assert!(matches!(&read.secret, Some(SecretRef::Env(name)) if name == "A_SECRET"));
    }
}

#[test]
fn a_secret_pasted_into_secret_env_is_refused_without_being_echoed() {
    let message = parse_error(
        "[profiles.work]\nkind = \"ims-s2s\"\nsecret_env = \"p8e-Zq91-not-a-variable\"\n",
    );
    assert_eq!(
        message,
        "config.toml:3:14: `profiles.work.secret_env`: expected the name of an environment \
         variable (letters, digits and `_`, not starting with a digit); if this is the secret \
         itself, remove it from the file, export it, and name its variable here"
    );
    assert!(!message.contains("p8e-Zq91"));
}

#[test]
fn a_file_this_crate_would_refuse_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let mut profiles = Profiles::parse(&path, S2S).unwrap();
    profiles.set_default(Some("ghost"));
    let error = profiles.save().unwrap_err().to_string();
    assert!(error.contains("ghost"), "{error}");
    assert!(!path.exists());
}
