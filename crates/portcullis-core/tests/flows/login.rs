use portcullis_core::Error;
use portcullis_core::flows::unblock::redeem_unblock_ticket;

use crate::harness::{Harness, STRONG, requester};

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_cost_one_hash_and_answer_alike() {
    let h = Harness::new("").await;
    h.sign_up("ada@example.com", STRONG).await.expect("sign-up");
    let before = h.tenant.hasher.computed();
    let wrong = h
        .login("ada@example.com", "Wrong-Password-1", "openid")
        .await;
    let unknown = h
        .login("nobody@example.com", "Wrong-Password-1", "openid")
        .await;
    assert_eq!(h.tenant.hasher.computed() - before, 2);
    assert!(matches!(
        wrong,
        Err(Error::WrongCredentials { by_username: false })
    ));
    assert!(matches!(
        unknown,
        Err(Error::WrongCredentials { by_username: false })
    ));
    let logged_in = h
        .login("ada@example.com", STRONG, "openid")
        .await
        .expect("login");
    assert_eq!(logged_in.user.logins_count, 1);
}

#[tokio::test]
async fn the_third_failure_blocks_even_the_right_password_until_the_mailed_link() {
    let h = Harness::new("").await;
    h.sign_up("ada@example.com", STRONG).await.expect("sign-up");
    for _ in 0..3 {
        assert!(matches!(
            h.login("ada@example.com", "Wrong-Password-1", "openid")
                .await,
            Err(Error::WrongCredentials { .. })
        ));
    }
    let before = h.tenant.hasher.computed();
    assert!(matches!(
        h.login("ada@example.com", STRONG, "openid").await,
        Err(Error::TooManyAttempts)
    ));
    assert_eq!(h.tenant.hasher.computed(), before, "a block costs no hash");
    let token = h
        .ticket_mailed_to("ada@example.com", "/unblock?ticket=")
        .await;
    assert!(
        redeem_unblock_ticket(&h.tenant, &token, &requester())
            .await
            .expect("unblock")
    );
    h.login("ada@example.com", STRONG, "openid")
        .await
        .expect("login");
}

#[tokio::test]
async fn a_block_lapses_thirty_days_after_the_last_failure() {
    let h = Harness::new("").await;
    h.sign_up("ada@example.com", STRONG).await.expect("sign-up");
    for _ in 0..3 {
        let _ = h
            .login("ada@example.com", "Wrong-Password-1", "openid")
            .await;
    }
    h.clock.advance_secs(29 * 24 * 3600);
    assert!(matches!(
        h.login("ada@example.com", STRONG, "openid").await,
        Err(Error::TooManyAttempts)
    ));
    h.clock.advance_secs(2 * 24 * 3600);
    h.login("ada@example.com", STRONG, "openid")
        .await
        .expect("lapsed");
}
