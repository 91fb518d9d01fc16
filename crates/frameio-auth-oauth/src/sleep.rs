//! The production [`Sleeper`]: a tokio timer.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use frameio_auth_core::Sleeper;

/// Sleeps on the tokio timer. The default [`Sleeper`] of the token client and the loopback
/// receiver; tests inject a [`ManualClock`](frameio_auth_core::ManualClock) instead, which
/// "sleeps" by moving its time forward at once.
///
/// ```
/// use std::time::Duration;
/// use frameio_auth_core::Sleeper;
/// use frameio_auth_oauth::TokioSleeper;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// TokioSleeper.sleep(Duration::from_millis(1)).await;
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}
