//! The second factor on the hosted pages: the one-time-code challenge, a first enrollment,
//! and recovery codes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::Error;
use portcullis_core::flows::mfa;
use portcullis_core::tokens::SealPurpose;
use serde::{Deserialize, Serialize};

use super::answer::{signed_in, signed_in_showing_recovery_code};
use super::enrollment::qr_svg;
use super::transaction::HostedForm;
use super::{Hidden, data, failure, show};
use crate::AppState;
use crate::wire::page::page_message;
use crate::wire::page_text;

pub(super) async fn otp_form(
    app: &AppState,
    status: StatusCode,
    sealed: &str,
    mfa_token: &str,
    error: Option<&str>,
) -> Response {
    let recovery_allowed = mfa::policy(&app.tenant)
        .await
        .is_ok_and(|p| p.recovery_code);
    show(
        app,
        status,
        "mfa-challenge.html",
        minijinja::context! {
            title => page_text::MFA_CHALLENGE_TITLE,
            state => sealed,
            mfa_token,
            error,
            recovery_allowed,
        },
    )
}

/// `POST /u/mfa-otp-challenge`: the second factor of a hosted login.
pub(super) async fn submit_otp(State(app): State<AppState>, mut form: HostedForm) -> Response {
    let tenant = &app.tenant;
    let mfa_token = form.field("mfa_token");
    let code: String = form
        .field("code")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let sealed = &form.sealed;
    match mfa::redeem_otp(
        tenant,
        &form.client,
        &mfa_token,
        &code,
        &form.requester,
        true,
    )
    .await
    {
        Ok((user, pending)) => {
            let mut authorization = form.authorization;
            authorization.grant.claims = pending.claims;
            signed_in(&app, &user, &authorization, true).await
        }
        Err(e @ (Error::InvalidOtp | Error::MfaTooManyAttempts)) => {
            let (status, text) = page_message(&e);
            otp_form(&app, status, sealed, &mfa_token, Some(&text)).await
        }
        Err(e) => failure(&app, page_text::ERROR_TITLE, &e),
    }
}

/// What the enrollment page must show again after a wrong code: the secret the user already
/// scanned, and the recovery code to show once enrolled. It travels in the page (this browser
/// just proved the password; the recovery code is of no use before the enrollment is done).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct PendingEnrollment {
    purpose: String,
    secret: String,
    barcode_uri: String,
    recovery_code: Option<String>,
}

/// A user without a factor logging in where MFA is required: a new authenticator to scan.
pub(super) async fn start_enrollment(app: &AppState, sealed: &str, mfa_token: &str) -> Response {
    let enrollment = match mfa::associate(&app.tenant, mfa_token, &["otp".to_owned()]).await {
        Ok(e) => e,
        Err(e) => return failure(app, page_text::ERROR_TITLE, &e),
    };
    let pending = PendingEnrollment {
        purpose: "enrollment".to_owned(),
        secret: enrollment.secret,
        barcode_uri: enrollment.barcode_uri,
        recovery_code: enrollment.recovery_codes.into_iter().next(),
    };
    enrollment_form(app, StatusCode::OK, sealed, mfa_token, &pending, None)
}

pub(super) fn enrollment_form(
    app: &AppState,
    status: StatusCode,
    sealed: &str,
    mfa_token: &str,
    pending: &PendingEnrollment,
    error: Option<&str>,
) -> Response {
    let sealed_enrollment = match app.tenant.keys.seal(SealPurpose::MfaEnrollment, pending) {
        Ok(s) => s,
        Err(e) => return failure(app, page_text::ERROR_TITLE, &Error::Key(e)),
    };
    show(
        app,
        status,
        "mfa-enroll.html",
        minijinja::context! {
            title => page_text::MFA_ENROLL_TITLE,
            qr_svg => qr_svg(&pending.barcode_uri),
            secret => &pending.secret,
            action => "/u/mfa-otp-enrollment",
            hidden => data([
                Hidden { name: "state", value: sealed },
                Hidden { name: "mfa_token", value: mfa_token },
                Hidden { name: "enrollment", value: &sealed_enrollment },
            ]),
            error,
        },
    )
}

/// `POST /u/mfa-otp-enrollment`: the first code from the new authenticator confirms it and
/// completes the login; the recovery code is shown once before going back to the application.
pub(super) async fn submit_enrollment(
    State(app): State<AppState>,
    mut form: HostedForm,
) -> Response {
    let tenant = &app.tenant;
    let mfa_token = form.field("mfa_token");
    let sealed_enrollment = form.field("enrollment");
    let code: String = form
        .field("code")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let Some(pending) = tenant
        .keys
        .open::<PendingEnrollment>(SealPurpose::MfaEnrollment, &sealed_enrollment)
        .filter(|p| p.purpose == "enrollment")
    else {
        return failure(&app, page_text::ERROR_TITLE, &Error::InvalidLoginState);
    };
    let (sealed, authorization) = (&form.sealed, form.authorization);
    match mfa::redeem_otp(
        tenant,
        &form.client,
        &mfa_token,
        &code,
        &form.requester,
        true,
    )
    .await
    {
        Ok((user, login)) => match pending.recovery_code {
            Some(recovery_code) => {
                let mut authorization = authorization;
                authorization.grant.claims = login.claims;
                signed_in_showing_recovery_code(
                    &app,
                    &user,
                    &authorization,
                    &recovery_code,
                    page_text::RECOVERY_CODE_FIRST_TITLE,
                )
                .await
            }
            None => {
                let mut authorization = authorization;
                authorization.grant.claims = login.claims;
                signed_in(&app, &user, &authorization, true).await
            }
        },
        Err(e @ (Error::InvalidOtp | Error::MfaTooManyAttempts)) => {
            let (status, text) = page_message(&e);
            enrollment_form(&app, status, sealed, &mfa_token, &pending, Some(&text))
        }
        Err(e) => failure(&app, page_text::ERROR_TITLE, &e),
    }
}

/// `POST /u/mfa-recovery-code`: with `show`, the recovery-code form; with `code`, the
/// recovery code completes the login and the next one is shown once.
pub(super) async fn submit_recovery_code(
    State(app): State<AppState>,
    mut form: HostedForm,
) -> Response {
    let tenant = &app.tenant;
    let mfa_token = form.field("mfa_token");
    let code = form.field("code");
    let sealed = &form.sealed;
    let page = |status, error: Option<&str>| {
        show(
            &app,
            status,
            "mfa-recovery-challenge.html",
            minijinja::context! { title => page_text::MFA_CHALLENGE_TITLE, state => sealed, mfa_token => &mfa_token, error },
        )
    };
    if code.is_empty() {
        return page(StatusCode::OK, None);
    }
    let redeemed = mfa::redeem_recovery_code(
        tenant,
        &form.client,
        &mfa_token,
        code.trim(),
        &form.requester,
        true,
    )
    .await;
    match redeemed {
        Ok((user, login, next_code)) => {
            let mut authorization = form.authorization;
            authorization.grant.claims = login.claims;
            signed_in_showing_recovery_code(
                &app,
                &user,
                &authorization,
                &next_code,
                page_text::RECOVERY_CODE_NEXT_TITLE,
            )
            .await
        }
        Err(e @ (Error::InvalidRecoveryCode | Error::MfaTooManyAttempts)) => {
            let (status, text) = page_message(&e);
            page(status, Some(&text))
        }
        Err(e) => failure(&app, page_text::ERROR_TITLE, &e),
    }
}
