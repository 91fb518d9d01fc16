//! The HTTP settings every IMS credential shares, and the oauth clients built from them.

use std::sync::Arc;

use frameio_auth_core::{Clock, ConfigError, Sleeper, SystemClock};
use frameio_auth_oauth::{
    ClientAuth, EndpointClient, RetryPolicy, SecureUrl, TokenClient, TokioSleeper,
};

/// Clock, sleeper and retry policy, set on a credential's builder.
#[derive(Clone, Debug)]
pub(crate) struct Transport {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sleeper: Arc<dyn Sleeper>,
    pub(crate) retry: RetryPolicy,
}

impl Default for Transport {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            sleeper: Arc::new(TokioSleeper),
            retry: RetryPolicy::default(),
        }
    }
}

impl Transport {
    pub(crate) fn token_client(
        &self,
        token_url: SecureUrl,
        auth: ClientAuth,
    ) -> Result<TokenClient, ConfigError> {
        TokenClient::builder(token_url, auth)
            .clock(Arc::clone(&self.clock))
            .sleeper(Arc::clone(&self.sleeper))
            .retry_policy(self.retry)
            .build()
    }

    pub(crate) fn endpoint_client(&self) -> Result<EndpointClient, ConfigError> {
        EndpointClient::builder()
            .clock(Arc::clone(&self.clock))
            .sleeper(Arc::clone(&self.sleeper))
            .retry_policy(self.retry)
            .build()
    }
}

/// Builder methods for the shared settings, for each credential builder.
macro_rules! transport_setters {
    () => {
        /// Where "now" comes from (token `issued_at`, expiry checks, deadlines). Default: the
        /// system clock.
        #[must_use]
        pub fn clock(mut self, clock: impl frameio_auth_core::Clock + 'static) -> Self {
            self.transport.clock = std::sync::Arc::new(clock);
            self
        }

        /// How the client waits between retries. Default: a tokio timer. Tests pass a
        /// [`ManualClock`](frameio_auth_core::ManualClock) as both clock and sleeper.
        #[must_use]
        pub fn sleeper(mut self, sleeper: impl frameio_auth_core::Sleeper + 'static) -> Self {
            self.transport.sleeper = std::sync::Arc::new(sleeper);
            self
        }

        /// How transient failures are retried. Default:
        /// [`RetryPolicy::default`](frameio_auth_oauth::RetryPolicy::default).
        #[must_use]
        pub fn retry_policy(mut self, policy: frameio_auth_oauth::RetryPolicy) -> Self {
            self.transport.retry = policy;
            self
        }
    };
}
pub(crate) use transport_setters;
