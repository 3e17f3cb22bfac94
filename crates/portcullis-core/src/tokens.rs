//! Signing keys, JWT claims and the JWKS. Keys are RSA-2048 generated with aws-lc-rs, kept in
//! the store as PKCS#8 PEM sealed under the at-rest keys, and served only as public JWKs. The
//! newest generation signs; it and the one before are published and verify, so tokens signed
//! just before a rotation stay valid, and a key two rotations old (or retired) verifies nothing.

use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::at_rest::{AtRestKeys, Purpose};
use crate::store::{SigningKeyRecord, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed: {0}")]
    Generate(String),
    #[error("stored key {kid} is unusable: {problem}")]
    Unusable { kid: String, problem: String },
    #[error("no signing key")]
    NoKey,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("no older signing key to retire")]
    NothingToRetire,
}

/// How many keys, newest first, are published and verify: the signing key and the one before.
const PUBLISHED_KEYS: usize = 2;

/// What a value sealed with [`KeyRing::seal`] is. Each purpose has its own MAC key and is named
/// in the payload, so a value sealed for one purpose never opens as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealPurpose {
    /// An opaque access token (good only for `/userinfo`).
    OpaqueAccessToken,
    /// A hosted login page's transaction (`state`).
    LoginTransaction,
    /// A TOTP enrollment in progress on the hosted pages.
    MfaEnrollment,
    /// The answer a hosted page posts back to the application.
    LoginAnswer,
}

impl SealPurpose {
    const ALL: [SealPurpose; 4] = [
        SealPurpose::OpaqueAccessToken,
        SealPurpose::LoginTransaction,
        SealPurpose::MfaEnrollment,
        SealPurpose::LoginAnswer,
    ];

    fn label(self) -> &'static str {
        match self {
            SealPurpose::OpaqueAccessToken => "at",
            SealPurpose::LoginTransaction => "txn",
            SealPurpose::MfaEnrollment => "enroll",
            SealPurpose::LoginAnswer => "answer",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

struct LoadedKey {
    kid: String,
    generation: i64,
    /// Parsed once: parsing a PKCS#8 RSA key costs more than the signature itself, and
    /// `jsonwebtoken::encode` would parse it on every call.
    signer: aws_lc_rs::signature::RsaKeyPair,
    /// The JOSE header of every token this key signs, already base64url-encoded.
    encoded_header: String,
    decoding: DecodingKey,
    public_jwk: Jwk,
    /// One MAC key per [`SealPurpose`], in its order; derived from the private key, so every
    /// node sharing the store shares them and a key rotation rotates them too.
    macs: Vec<aws_lc_rs::hmac::Key>,
}

impl LoadedKey {
    fn mac(&self, purpose: SealPurpose) -> &aws_lc_rs::hmac::Key {
        &self.macs[purpose.index()]
    }
}

/// The keys this node signs and verifies with, reloaded from the store on demand.
#[derive(Clone)]
pub struct KeyRing {
    keys: Arc<RwLock<Vec<Arc<LoadedKey>>>>,
    /// Seals the private keys in the store.
    at_rest: Arc<AtRestKeys>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRing")
    }
}

/// Why a presented token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRejection {
    Malformed,
    BadSignature,
    Expired,
    WrongAudience,
    WrongIssuer,
}

pub fn generate_key_record(generation: i64, now_millis: i64) -> Result<SigningKeyRecord, KeyError> {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    let pair =
        KeyPair::generate(KeySize::Rsa2048).map_err(|e| KeyError::Generate(e.to_string()))?;
    let der = pair
        .as_der()
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let pem = pem_encode("PRIVATE KEY", der.as_ref());
    let kid = {
        let mut random = [0u8; 16];
        crate::secret::fill_random(&mut random);
        URL_SAFE_NO_PAD.encode(random)
    };
    Ok(SigningKeyRecord {
        kid,
        generation,
        private_key_pem: pem,
        created_at: now_millis,
    })
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem_decode(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .ok()
}

fn load(record: &SigningKeyRecord, at_rest: &AtRestKeys) -> Result<LoadedKey, KeyError> {
    let unusable = |problem: String| KeyError::Unusable {
        kid: record.kid.clone(),
        problem,
    };
    let pem = at_rest
        .open_text(Purpose::SigningKey, &record.kid, &record.private_key_pem)
        .map_err(|e| unusable(e.to_string()))?;
    let encoding =
        EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| unusable(e.to_string()))?;
    let mut jwk =
        Jwk::from_encoding_key(&encoding, Algorithm::RS256).map_err(|e| unusable(e.to_string()))?;
    jwk.common.key_id = Some(record.kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| unusable(e.to_string()))?;
    let der = pem_decode(&pem).ok_or_else(|| unusable("not PEM".to_owned()))?;
    let signer =
        aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&der).map_err(|e| unusable(e.to_string()))?;
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": record.kid});
    let macs = SealPurpose::ALL
        .iter()
        .map(|purpose| {
            let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
            context.update(b"portcullis sealed value v2\0");
            context.update(purpose.label().as_bytes());
            context.update(b"\0");
            context.update(&der);
            aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, context.finish().as_ref())
        })
        .collect();
    Ok(LoadedKey {
        kid: record.kid.clone(),
        generation: record.generation,
        signer,
        encoded_header: URL_SAFE_NO_PAD.encode(header.to_string()),
        decoding,
        public_jwk: jwk,
        macs,
    })
}

impl KeyRing {
    /// Loads the stored keys, creating the first one if there is none.
    pub async fn load_or_create(
        store: &dyn Store,
        at_rest: Arc<AtRestKeys>,
        now_millis: i64,
    ) -> Result<Self, KeyError> {
        let ring = Self {
            keys: Arc::new(RwLock::new(Vec::new())),
            at_rest,
        };
        if store.signing_keys().await?.is_empty() {
            let record = sealed(generate_key_record(1, now_millis)?, &ring.at_rest);
            match store.insert_signing_key(&record).await {
                // Another node created the first key at the same moment: use theirs.
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        ring.reload(store).await?;
        Ok(ring)
    }

    /// Adds a key one generation newer than the newest; it signs from the next reload on.
    pub async fn rotate(
        store: &dyn Store,
        at_rest: &AtRestKeys,
        now_millis: i64,
    ) -> Result<SigningKeyRecord, KeyError> {
        let newest = store
            .signing_keys()
            .await?
            .iter()
            .map(|k| k.generation)
            .max()
            .unwrap_or(0);
        let record = sealed(generate_key_record(newest + 1, now_millis)?, at_rest);
        store.insert_signing_key(&record).await?;
        Ok(record)
    }

    /// Deletes every key older than the newest: tokens they signed stop verifying at once,
    /// on every node at its next reload. How many keys were retired.
    pub async fn retire(store: &dyn Store) -> Result<u64, KeyError> {
        let newest = store
            .signing_keys()
            .await?
            .iter()
            .map(|k| k.generation)
            .max()
            .ok_or(KeyError::NoKey)?;
        match store.delete_signing_keys_before(newest).await? {
            0 => Err(KeyError::NothingToRetire),
            retired => Ok(retired),
        }
    }

    pub async fn reload(&self, store: &dyn Store) -> Result<(), KeyError> {
        let loaded = Self::load_all(store.signing_keys().await?, &self.at_rest)?;
        let mut guard = self.keys.write().unwrap_or_else(|p| p.into_inner());
        *guard = loaded;
        Ok(())
    }

    /// A ring of exactly these (unsealed) keys, without a store (tools and fuzzing).
    pub fn from_records(records: Vec<SigningKeyRecord>) -> Result<Self, KeyError> {
        let at_rest = Arc::new(AtRestKeys::ephemeral());
        Ok(Self {
            keys: Arc::new(RwLock::new(Self::load_all(records, &at_rest)?)),
            at_rest,
        })
    }

    /// The keys newest first, the order in which they sign and are served.
    fn load_all(
        mut records: Vec<SigningKeyRecord>,
        at_rest: &AtRestKeys,
    ) -> Result<Vec<Arc<LoadedKey>>, KeyError> {
        records.sort_by_key(|r| std::cmp::Reverse(r.generation));
        records
            .iter()
            .map(|r| load(r, at_rest).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()
    }

    /// The published key with this id: only those verify.
    fn published(&self, kid: &str) -> Option<Arc<LoadedKey>> {
        let guard = self.keys.read().unwrap_or_else(|p| p.into_inner());
        guard
            .iter()
            .take(PUBLISHED_KEYS)
            .find(|k| k.kid == kid)
            .cloned()
    }

    fn current(&self) -> Result<Arc<LoadedKey>, KeyError> {
        let guard = self.keys.read().unwrap_or_else(|p| p.into_inner());
        guard.first().cloned().ok_or(KeyError::NoKey)
    }

    /// The current and previous keys, as the JWKS serves them (newest first).
    pub fn jwks(&self) -> JwkSet {
        let guard = self.keys.read().unwrap_or_else(|p| p.into_inner());
        JwkSet {
            keys: guard
                .iter()
                .take(PUBLISHED_KEYS)
                .map(|k| k.public_jwk.clone())
                .collect(),
        }
    }

    pub fn current_generation(&self) -> Option<i64> {
        self.current().ok().map(|k| k.generation)
    }

    /// An RS256 JWS (RFC 7515 compact serialisation) of `claims` with the current key.
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, KeyError> {
        let key = self.current()?;
        let payload = serde_json::to_vec(claims).map_err(|e| KeyError::Sign(e.to_string()))?;
        let mut token =
            String::with_capacity(key.encoded_header.len() + payload.len() * 4 / 3 + 350);
        token.push_str(&key.encoded_header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let mut signature = vec![0u8; key.signer.public_modulus_len()];
        key.signer
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                token.as_bytes(),
                &mut signature,
            )
            .map_err(|e| KeyError::Sign(e.to_string()))?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(token)
    }

    /// An opaque access token: what Auth0 issues when no API is named and the token is only
    /// good for `/userinfo`. Clients must not parse it; it is `base64url(claims).base64url(mac)`
    /// (two parts, so no JWT parser mistakes it for one), authenticated with HMAC-SHA256 —
    /// a microsecond instead of an RSA signature on every password login.
    pub fn seal_opaque(&self, claims: &AccessClaims) -> Result<String, KeyError> {
        self.seal(SealPurpose::OpaqueAccessToken, claims)
    }

    /// Seals `value` as a `purpose` value: `base64url(payload).base64url(HMAC-SHA256)` with the
    /// purpose's MAC key of the current signing key, the payload naming the purpose and the key.
    pub fn seal<T: Serialize>(&self, purpose: SealPurpose, value: &T) -> Result<String, KeyError> {
        let key = self.current()?;
        let payload = serde_json::to_vec(&SealedPayload {
            typ: purpose.label(),
            kid: &key.kid,
            data: value,
        })
        .map_err(|e| KeyError::Sign(e.to_string()))?;
        let mut sealed = URL_SAFE_NO_PAD.encode(&payload);
        let tag = aws_lc_rs::hmac::sign(key.mac(purpose), sealed.as_bytes());
        sealed.push('.');
        URL_SAFE_NO_PAD.encode_string(tag.as_ref(), &mut sealed);
        Ok(sealed)
    }

    /// Opens a value [`KeyRing::seal`] sealed as a `purpose` value with a published key.
    pub fn open<T: serde::de::DeserializeOwned>(
        &self,
        purpose: SealPurpose,
        sealed: &str,
    ) -> Option<T> {
        let (payload, tag) = sealed.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let opened: OpenedPayload<T> = serde_json::from_slice(&bytes).ok()?;
        if opened.typ != purpose.label() {
            return None;
        }
        let key = self.published(&opened.kid)?;
        aws_lc_rs::hmac::verify(key.mac(purpose), payload.as_bytes(), &tag).ok()?;
        Some(opened.data)
    }

    /// Verifies an access token of either form: an opaque token from [`KeyRing::seal_opaque`]
    /// or an RS256 JWT, with the same checks.
    pub fn verify_access_token(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
        now_secs: i64,
    ) -> Result<AccessClaims, TokenRejection> {
        if token.bytes().filter(|b| *b == b'.').count() != 1 {
            return self.verify(token, issuer, audience, now_secs);
        }
        let claims: AccessClaims = self
            .open(SealPurpose::OpaqueAccessToken, token)
            .ok_or(TokenRejection::BadSignature)?;
        check_claims(claims, issuer, audience, now_secs)
    }

    /// Verifies an RS256 token signed by one of our keys, issued by `issuer`, for `audience`
    /// (which must be one of the token's `aud` values), at time `now_secs`.
    pub fn verify(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
        now_secs: i64,
    ) -> Result<AccessClaims, TokenRejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejection::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(TokenRejection::BadSignature);
        }
        let kid = header.kid.ok_or(TokenRejection::BadSignature)?;
        let key = self.published(&kid).ok_or(TokenRejection::BadSignature)?;
        let mut validation = Validation::new(Algorithm::RS256);
        // Time, audience and issuer are checked below against the injected clock.
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenRejection::BadSignature,
                _ => TokenRejection::Malformed,
            })?;
        check_claims(data.claims, issuer, audience, now_secs)
    }
}

fn check_claims(
    claims: AccessClaims,
    issuer: &str,
    audience: &str,
    now_secs: i64,
) -> Result<AccessClaims, TokenRejection> {
    if claims.iss != issuer {
        return Err(TokenRejection::WrongIssuer);
    }
    if !claims.aud.contains(audience) {
        return Err(TokenRejection::WrongAudience);
    }
    if claims.exp <= now_secs {
        return Err(TokenRejection::Expired);
    }
    Ok(claims)
}

#[derive(Serialize)]
struct SealedPayload<'a, T> {
    typ: &'static str,
    kid: &'a str,
    data: &'a T,
}

#[derive(Deserialize)]
struct OpenedPayload<T> {
    typ: String,
    kid: String,
    data: T,
}

/// `record` with its private key sealed under the at-rest keys, as the store keeps it.
fn sealed(mut record: SigningKeyRecord, at_rest: &AtRestKeys) -> SigningKeyRecord {
    record.private_key_pem = at_rest.seal(
        Purpose::SigningKey,
        &record.kid,
        record.private_key_pem.as_bytes(),
    );
    record
}

/// `aud`: one string or several, as JWTs allow.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(a) => a == audience,
            Audience::Many(list) => list.iter().any(|a| a == audience),
        }
    }
}

/// Auth0's access-token claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gty: Option<String>,
    pub azp: String,
    /// Claims added by Actions and Rules.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub custom: Map<String, Value>,
}

impl AccessClaims {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.as_deref().unwrap_or("").split_whitespace()
    }
    pub fn has_scope(&self, wanted: &str) -> bool {
        self.scopes().any(|s| s == wanted)
    }
}

/// An ID token: registered claims plus the profile claims the scopes allow.
#[derive(Debug, Clone, Serialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(flatten)]
    pub profile: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sealed value with `from` replaced by `to` in its payload and its tag kept.
    fn with_payload_edited(sealed: &str, from: &str, to: &str) -> String {
        let (payload, tag) = sealed.split_once('.').expect("two parts");
        let edited = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).expect("b64"))
            .expect("utf8")
            .replace(from, to);
        format!("{}.{tag}", URL_SAFE_NO_PAD.encode(edited))
    }

    #[test]
    fn our_signatures_verify_with_jsonwebtoken() {
        let record = generate_key_record(1, 0).expect("key");
        let ring = KeyRing::from_records(vec![record.clone()]).expect("ring");
        let claims = AccessClaims {
            iss: "https://auth.example.com/".into(),
            sub: "auth0|abc".into(),
            aud: Audience::Many(vec!["a".into(), "b".into()]),
            iat: 1,
            exp: 100,
            scope: Some("openid".into()),
            gty: None,
            azp: "client".into(),
            custom: Map::new(),
        };
        let token = ring.sign(&claims).expect("sign");
        let header = jsonwebtoken::decode_header(&token).expect("header");
        assert_eq!(
            (header.alg, header.kid.as_deref()),
            (Algorithm::RS256, Some(record.kid.as_str()))
        );
        let verified = ring
            .verify(&token, "https://auth.example.com/", "b", 50)
            .expect("valid");
        assert_eq!(verified.sub, "auth0|abc");
        assert_eq!(
            ring.verify(&token, "https://auth.example.com/", "b", 100)
                .err(),
            Some(TokenRejection::Expired)
        );
        assert_eq!(
            ring.verify(&token, "https://other/", "b", 50).err(),
            Some(TokenRejection::WrongIssuer)
        );
        assert_eq!(
            ring.verify(&token, "https://auth.example.com/", "c", 50)
                .err(),
            Some(TokenRejection::WrongAudience)
        );
        let mut tampered = token.clone();
        tampered.replace_range(token.len() - 5.., "AAAAA");
        assert_eq!(
            ring.verify(&tampered, "https://auth.example.com/", "b", 50)
                .err(),
            Some(TokenRejection::BadSignature)
        );
        // Opaque tokens: same checks, and any change breaks them.
        let opaque = ring.seal_opaque(&claims).expect("seal");
        assert_eq!(opaque.split('.').count(), 2);
        let opened = ring
            .verify_access_token(&opaque, "https://auth.example.com/", "b", 50)
            .expect("valid");
        assert_eq!(opened.sub, "auth0|abc");
        assert_eq!(
            ring.verify_access_token(&opaque, "https://auth.example.com/", "b", 100)
                .err(),
            Some(TokenRejection::Expired)
        );
        let forged = with_payload_edited(&opaque, "auth0|abc", "auth0|abd");
        assert_eq!(
            ring.verify_access_token(&forged, "https://auth.example.com/", "b", 50)
                .err(),
            Some(TokenRejection::BadSignature)
        );
        assert!(
            ring.verify_access_token(&token, "https://auth.example.com/", "b", 50)
                .is_ok()
        );
        // alg=none and HS256 are refused whatever their content.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            token.split('.').nth(1).expect("payload")
        );
        assert!(
            ring.verify(&none, "https://auth.example.com/", "b", 50)
                .is_err()
        );
    }

    #[test]
    fn a_sealed_value_opens_only_for_its_purpose() {
        let ring =
            KeyRing::from_records(vec![generate_key_record(1, 0).expect("key")]).expect("ring");
        let value = serde_json::json!({"sub": "auth0|abc"});
        let sealed = ring
            .seal(SealPurpose::LoginTransaction, &value)
            .expect("seal");
        assert_eq!(
            ring.open::<Value>(SealPurpose::LoginTransaction, &sealed),
            Some(value.clone())
        );
        for other in [
            SealPurpose::OpaqueAccessToken,
            SealPurpose::MfaEnrollment,
            SealPurpose::LoginAnswer,
        ] {
            assert_eq!(ring.open::<Value>(other, &sealed), None, "{other:?}");
        }
        // Relabelled to another purpose, the MAC no longer matches.
        let relabelled = with_payload_edited(&sealed, "\"txn\"", "\"answer\"");
        assert_eq!(
            ring.open::<Value>(SealPurpose::LoginAnswer, &relabelled),
            None
        );
    }

    #[test]
    fn only_the_published_keys_verify() {
        let claims = AccessClaims {
            iss: "i".into(),
            sub: "s".into(),
            aud: Audience::One("a".into()),
            iat: 1,
            exp: 100,
            scope: None,
            gty: None,
            azp: "c".into(),
            custom: Map::new(),
        };
        let oldest = generate_key_record(1, 0).expect("key");
        let signed_by_oldest = KeyRing::from_records(vec![oldest.clone()])
            .expect("ring")
            .sign(&claims)
            .expect("sign");
        let once = KeyRing::from_records(vec![
            oldest.clone(),
            generate_key_record(2, 0).expect("key"),
        ])
        .expect("ring");
        assert!(once.verify(&signed_by_oldest, "i", "a", 50).is_ok());
        let twice = KeyRing::from_records(vec![
            oldest,
            generate_key_record(2, 0).expect("key"),
            generate_key_record(3, 0).expect("key"),
        ])
        .expect("ring");
        assert_eq!(twice.jwks().keys.len(), 2);
        assert_eq!(
            twice.verify(&signed_by_oldest, "i", "a", 50).err(),
            Some(TokenRejection::BadSignature)
        );
    }
}
