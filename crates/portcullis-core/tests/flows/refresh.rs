use portcullis_core::Error;
use portcullis_core::flows::refresh::{issue, redeem};

use crate::harness::{Harness, STRONG, requester};

#[tokio::test]
async fn a_rotated_refresh_token_shown_again_revokes_its_family() {
    let h = Harness::new("").await;
    h.sign_up("ada@example.com", STRONG).await.expect("sign-up");
    let user = h
        .login("ada@example.com", STRONG, "openid offline_access")
        .await
        .expect("login")
        .user;
    let first = issue(
        &h.tenant,
        h.client(),
        &user,
        Some("openid offline_access"),
        None,
    )
    .await
    .expect("issue")
    .expect("a refresh token");
    let refreshed = redeem(&h.tenant, h.client(), &first, None, &requester())
        .await
        .expect("redeem");
    let second = refreshed.refresh_token.expect("rotated");
    assert_ne!(first, second);
    // The first token again: a copy is in use, so the whole family ends.
    assert!(matches!(
        redeem(&h.tenant, h.client(), &first, None, &requester()).await,
        Err(Error::InvalidRefreshToken)
    ));
    assert!(matches!(
        redeem(&h.tenant, h.client(), &second, None, &requester()).await,
        Err(Error::InvalidRefreshToken)
    ));
}
