use portcullis_core::Error;
use portcullis_core::clock::Clock;
use portcullis_core::flows::mfa::{associate, redeem_otp};
use portcullis_core::mfa::totp::code_at;

use crate::harness::{Harness, STRONG, requester};

const ALWAYS: &str = r#"
[guardian]
policy = "all-applications"
[guardian.factors]
otp = { enabled = true }
recovery-code = { enabled = true }
"#;

#[tokio::test]
async fn a_password_alone_gets_an_mfa_token_and_the_first_code_completes_the_login() {
    let h = Harness::new(ALWAYS).await;
    h.sign_up("ada@example.com", STRONG).await.expect("sign-up");
    let Err(Error::MfaRequired {
        mfa_token,
        enrolled,
    }) = h.login("ada@example.com", STRONG, "openid").await
    else {
        panic!("a second factor is required");
    };
    assert!(!enrolled);
    let enrollment = associate(&h.tenant, &mfa_token, &["otp".to_owned()])
        .await
        .expect("associate");
    assert!(matches!(
        redeem_otp(
            &h.tenant,
            h.client(),
            &mfa_token,
            "000000",
            &requester(),
            false
        )
        .await,
        Err(Error::InvalidOtp)
    ));
    let code = code_at(&enrollment.secret, h.clock.now_secs()).expect("code");
    let (user, _) = redeem_otp(
        &h.tenant,
        h.client(),
        &mfa_token,
        &code,
        &requester(),
        false,
    )
    .await
    .expect("the code");
    assert_eq!(user.email, "ada@example.com");
}
