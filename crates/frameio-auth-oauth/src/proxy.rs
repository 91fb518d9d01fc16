//! Which proxy a request goes through: the environment's (`HTTPS_PROXY`, `HTTP_PROXY`,
//! `ALL_PROXY`, `NO_PROXY`) or the ones configured, and never one for a loopback address.
//!
//! Plain `http` is allowed only to loopback (a fake server, a local test IMS): a proxy would
//! carry that unencrypted traffic, client secret and refresh token included, off the machine.

use frameio_auth_core::ConfigError;
use reqwest::{NoProxy, Proxy};

use crate::settings::Proxies;

/// What is never proxied, in `NO_PROXY` syntax: IPv4 and IPv6 loopback and `localhost`.
pub(crate) const LOOPBACK_NO_PROXY: &str = "127.0.0.0/8,::1,localhost";

/// A proxy for one kind of URL from its address.
type MakeProxy = fn(String) -> reqwest::Result<Proxy>;

/// Reads one variable, lower case first (as curl does), empty meaning unset.
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn first_set(lookup: Lookup<'_>, names: &[&str]) -> Option<(String, String)> {
    names.iter().find_map(|name| {
        lookup(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .map(|value| ((*name).to_owned(), value))
    })
}

/// The exemptions: the environment's `NO_PROXY` plus loopback.
fn exemptions(lookup: Lookup<'_>) -> Option<NoProxy> {
    let listed = first_set(lookup, &["no_proxy", "NO_PROXY"]).map(|(_, list)| list);
    let all = match listed {
        Some(list) => format!("{list},{LOOPBACK_NO_PROXY}"),
        None => LOOPBACK_NO_PROXY.to_owned(),
    };
    NoProxy::from_string(&all)
}

/// The proxies for `setting`, each exempting loopback; empty: connect directly. `lookup` reads
/// the environment (`std::env::var` in production).
pub(crate) fn proxies(setting: &Proxies, lookup: Lookup<'_>) -> Result<Vec<Proxy>, ConfigError> {
    match setting {
        Proxies::Disabled => Ok(Vec::new()),
        Proxies::Explicit(list) => Ok(list
            .iter()
            .map(|proxy| proxy.clone().no_proxy(exemptions(lookup)))
            .collect()),
        Proxies::Environment => from_environment(lookup),
    }
}

fn from_environment(lookup: Lookup<'_>) -> Result<Vec<Proxy>, ConfigError> {
    // Under CGI, `HTTP_PROXY` is the client's `Proxy:` request header ("httpoxy"): only the
    // lower-case name is trusted there.
    let http_names: &[&str] = if lookup("REQUEST_METHOD").is_some() {
        &["http_proxy"]
    } else {
        &["http_proxy", "HTTP_PROXY"]
    };
    let wanted: [(&[&str], MakeProxy); 3] = [
        (&["https_proxy", "HTTPS_PROXY"], Proxy::https),
        (http_names, Proxy::http),
        (&["all_proxy", "ALL_PROXY"], Proxy::all),
    ];
    let mut found = Vec::new();
    for (names, make) in wanted {
        if let Some((name, value)) = first_set(lookup, names) {
            // The value may hold a password: the message names the variable only.
            let proxy = make(value).map_err(|_| {
                ConfigError::new(format!("{name} is not a valid proxy URL: fix or unset it"))
            })?;
            found.push(proxy.no_proxy(exemptions(lookup)));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn count(pairs: &[(&str, &str)]) -> usize {
        proxies(&Proxies::Environment, &env(pairs)).unwrap().len()
    }

    #[test]
    fn the_environment_variables_are_read_as_curl_reads_them() {
        assert_eq!(count(&[]), 0);
        assert_eq!(count(&[("HTTPS_PROXY", "http://proxy:3128")]), 1);
        assert_eq!(count(&[("https_proxy", " ")]), 0, "empty is unset");
        assert_eq!(
            count(&[
                ("https_proxy", "http://a:1"),
                ("HTTP_PROXY", "http://b:2"),
                ("ALL_PROXY", "http://c:3")
            ]),
            3
        );
        // Under CGI, HTTP_PROXY comes from the request: ignored ("httpoxy").
        assert_eq!(
            count(&[("HTTP_PROXY", "http://evil:1"), ("REQUEST_METHOD", "GET")]),
            0
        );
        assert_eq!(
            proxies(&Proxies::Disabled, &env(&[("HTTPS_PROXY", "http://a:1")]))
                .unwrap()
                .len(),
            0
        );
    }

    #[test]
    fn a_bad_proxy_url_names_the_variable_never_its_value() {
        let error = proxies(
            &Proxies::Environment,
            &env(&[("HTTPS_PROXY", "http://user:hunter2@[bad")]),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("HTTPS_PROXY"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }
}
