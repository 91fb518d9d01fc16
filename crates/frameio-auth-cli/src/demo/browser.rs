//! The demo's browser: opens the authorization URL on the fake server (where the fake user
//! is already signed in and consents at once) and follows its redirect to the loopback
//! receiver, as a real browser would.

use frameio_auth::oauth::reqwest;
use frameio_auth::oauth::url::Url;
use frameio_auth::oauth::user_login::ShowUrl;

/// A [`ShowUrl`] that plays the browser. A failure is printed by the login itself (no
/// redirect arrives, and the receiver says so), so it is only noted here.
pub(super) fn simulated() -> ShowUrl {
    ShowUrl::new_async(|url: Url| async move {
        if let Err(error) = follow(url).await {
            // Without the URL: it holds the authorization code.
            tracing::warn!(error = %error.without_url(), "the simulated browser failed");
        }
    })
}

async fn follow(url: Url) -> Result<(), reqwest::Error> {
    // One redirect at a time: the first goes to the loopback receiver, which answers the page.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(2))
        .no_proxy()
        .build()?;
    client.get(url).send().await?.error_for_status()?;
    Ok(())
}
