use portcullis_core::Error;
use portcullis_core::flows::reset::{request_reset, reset_password};

use crate::harness::{DB, Harness, STRONG, requester};

#[tokio::test]
async fn a_mailed_reset_link_sets_the_password_once() {
    let h = Harness::new("").await;
    h.sign_up("ada@example.com", STRONG).await.expect("sign-up");
    request_reset(&h.tenant, "app", DB, "ada@example.com", &requester())
        .await
        .expect("request");
    // An unknown address gets the same answer and no mail.
    request_reset(&h.tenant, "app", DB, "nobody@example.com", &requester())
        .await
        .expect("request");
    let token = h
        .ticket_mailed_to("ada@example.com", "/lo/reset?ticket=")
        .await;
    assert!(h.mails().await.iter().all(|m| m.to != "nobody@example.com"));
    let new_password = "Another-Strong-Pass-7";
    reset_password(&h.tenant, &token, new_password, &requester())
        .await
        .expect("reset");
    assert!(matches!(
        reset_password(&h.tenant, &token, "Yet-Another-Pass-8", &requester()).await,
        Err(Error::InvalidTicket)
    ));
    assert!(h.login("ada@example.com", STRONG, "openid").await.is_err());
    h.login("ada@example.com", new_password, "openid")
        .await
        .expect("the new password");
}
