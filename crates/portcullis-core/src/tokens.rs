//! Signing keys, JWT claims and the JWKS. Keys are RSA-2048 generated with aws-lc-rs, kept in
//! the store as PKCS#8 PEM and served only as public JWKs. The newest generation signs; every
//! stored key verifies and is published, so tokens signed before a rotation stay valid.

use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
}

struct LoadedKey {
    kid: String,
    generation: i64,
    encoding: EncodingKey,
    decoding: DecodingKey,
    public_jwk: Jwk,
}

/// The keys this node signs and verifies with, reloaded from the store on demand.
#[derive(Clone)]
pub struct KeyRing {
    keys: Arc<RwLock<Vec<Arc<LoadedKey>>>>,
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

fn load(record: &SigningKeyRecord) -> Result<LoadedKey, KeyError> {
    let unusable = |problem: String| KeyError::Unusable {
        kid: record.kid.clone(),
        problem,
    };
    let encoding = EncodingKey::from_rsa_pem(record.private_key_pem.as_bytes())
        .map_err(|e| unusable(e.to_string()))?;
    let mut jwk =
        Jwk::from_encoding_key(&encoding, Algorithm::RS256).map_err(|e| unusable(e.to_string()))?;
    jwk.common.key_id = Some(record.kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| unusable(e.to_string()))?;
    Ok(LoadedKey {
        kid: record.kid.clone(),
        generation: record.generation,
        encoding,
        decoding,
        public_jwk: jwk,
    })
}

impl KeyRing {
    /// Loads the stored keys, creating the first one if there is none.
    pub async fn load_or_create(store: &dyn Store, now_millis: i64) -> Result<Self, KeyError> {
        let ring = Self {
            keys: Arc::new(RwLock::new(Vec::new())),
        };
        if store.signing_keys().await?.is_empty() {
            let record = generate_key_record(1, now_millis)?;
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
    pub async fn rotate(store: &dyn Store, now_millis: i64) -> Result<SigningKeyRecord, KeyError> {
        let newest = store
            .signing_keys()
            .await?
            .iter()
            .map(|k| k.generation)
            .max()
            .unwrap_or(0);
        let record = generate_key_record(newest + 1, now_millis)?;
        store.insert_signing_key(&record).await?;
        Ok(record)
    }

    pub async fn reload(&self, store: &dyn Store) -> Result<(), KeyError> {
        let mut records = store.signing_keys().await?;
        records.sort_by_key(|r| std::cmp::Reverse(r.generation));
        let loaded = records.iter().map(load).collect::<Result<Vec<_>, _>>()?;
        let mut guard = self.keys.write().unwrap_or_else(|p| p.into_inner());
        *guard = loaded.into_iter().map(Arc::new).collect();
        Ok(())
    }

    fn current(&self) -> Result<Arc<LoadedKey>, KeyError> {
        let guard = self.keys.read().unwrap_or_else(|p| p.into_inner());
        guard.first().cloned().ok_or(KeyError::NoKey)
    }

    /// The current and previous keys, as the JWKS serves them (newest first).
    pub fn jwks(&self) -> JwkSet {
        let guard = self.keys.read().unwrap_or_else(|p| p.into_inner());
        JwkSet {
            keys: guard.iter().take(2).map(|k| k.public_jwk.clone()).collect(),
        }
    }

    pub fn current_generation(&self) -> Option<i64> {
        self.current().ok().map(|k| k.generation)
    }

    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, KeyError> {
        let key = self.current()?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding)
            .map_err(|e| KeyError::Sign(e.to_string()))
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
        let key = {
            let guard = self.keys.read().unwrap_or_else(|p| p.into_inner());
            guard.iter().find(|k| k.kid == kid).cloned()
        }
        .ok_or(TokenRejection::BadSignature)?;
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
        let claims = data.claims;
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
    #[serde(flatten)]
    pub profile: Map<String, Value>,
}
