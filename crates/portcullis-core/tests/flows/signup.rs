use portcullis_core::Error;

use crate::harness::{Harness, STRONG};

#[tokio::test]
async fn a_sign_up_stores_the_user_once_and_mails_the_verification_link() {
    let h = Harness::new("").await;
    let user = h.sign_up("ada@example.com", STRONG).await.expect("sign-up");
    assert_eq!(
        (user.email.as_str(), user.email_verified),
        ("ada@example.com", false)
    );
    assert!(matches!(
        h.sign_up("ada@example.com", STRONG).await,
        Err(Error::UserExists)
    ));
    assert!(matches!(
        h.sign_up("bob@example.com", "weak").await,
        Err(Error::WeakPassword { .. })
    ));
    let mails = h.mails().await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, "ada@example.com");
    assert!(mails[0].text.contains("/u/email-verification?ticket="));
}
