//! What a manager counts, through the `metrics` facade (feature `metrics`); nothing without it.
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | `frameio_auth_refreshes_total` | counter | `provider`, `profile`, `outcome` | refresh flights by outcome: `ok`, `transient`, `needs_login`, `invalid_client`, `rejected`, `protocol`, `store`, `configuration` |
//! | `frameio_auth_refresh_duration_seconds` | histogram | `provider`, `profile`, `outcome` | how long each flight took, store lock included |
//! | `frameio_auth_flight_waiters_total` | counter | `provider`, `profile` | callers that waited for a refresh another caller started (single flight) |
//! | `frameio_auth_store_lock_wait_seconds` | histogram | `provider`, `profile` | how long a flight waited for the store's lock (another process refreshing) |
//! | `frameio_auth_served_stale_total` | counter | `provider`, `profile` | tokens handed out inside the expiry margin because refreshes were failing |
//!
//! Labels are bounded: the key's provider (`ims`, `frameio-v2`...) and the profile name the
//! builder was given ([`TokenManagerBuilder::metrics_profile`](crate::TokenManagerBuilder::metrics_profile),
//! default `default`), never a token, a secret, a subject or a per-user key.

use std::time::Duration;

/// The labels of one manager's metrics.
#[derive(Clone, Debug)]
pub(crate) struct Metrics {
    #[cfg(feature = "metrics")]
    labels: [(&'static str, String); 2],
}

// Without the feature every method is empty: `self` is unused by design.
#[cfg_attr(not(feature = "metrics"), allow(clippy::unused_self))]
impl Metrics {
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn new(provider: &str, profile: &str) -> Self {
        Self {
            #[cfg(feature = "metrics")]
            labels: [
                ("provider", provider.to_owned()),
                ("profile", profile.to_owned()),
            ],
        }
    }

    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn refresh(&self, outcome: &'static str, took: Duration) {
        #[cfg(feature = "metrics")]
        {
            let [provider, profile] = &self.labels;
            let labels = [
                (provider.0, provider.1.clone()),
                (profile.0, profile.1.clone()),
                ("outcome", outcome.to_owned()),
            ];
            metrics::counter!("frameio_auth_refreshes_total", &labels).increment(1);
            metrics::histogram!("frameio_auth_refresh_duration_seconds", &labels)
                .record(took.as_secs_f64());
        }
    }

    pub(crate) fn waiter(&self) {
        #[cfg(feature = "metrics")]
        metrics::counter!("frameio_auth_flight_waiters_total", &self.labels).increment(1);
    }

    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn lock_wait(&self, waited: Duration) {
        #[cfg(feature = "metrics")]
        metrics::histogram!("frameio_auth_store_lock_wait_seconds", &self.labels)
            .record(waited.as_secs_f64());
    }

    pub(crate) fn served_stale(&self) {
        #[cfg(feature = "metrics")]
        metrics::counter!("frameio_auth_served_stale_total", &self.labels).increment(1);
    }
}
