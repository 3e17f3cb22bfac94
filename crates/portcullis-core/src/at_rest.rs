//! Encryption at rest for the secrets the server must be able to read back (TOTP secrets,
//! signing keys): AES-256-GCM under keys held outside the database, so a copy of the database
//! alone yields none of them.
//!
//! A sealed value reads `v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`. The key id lets the
//! keys rotate: the first key seals, every key opens. The additional data names what the value
//! is and whose it is (`totp-secret`, the authenticator's id), so a sealed value copied into
//! another row does not open there.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::store::{SealedColumn, Store, StoreError};

/// The prefix of every sealed value (and the format's version).
const SEALED_PREFIX: &str = "v1.";
const KEY_LEN: usize = 32;

/// What a sealed value is; part of its additional data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    TotpSecret,
    SigningKey,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::TotpSecret => "totp-secret",
            Purpose::SigningKey => "signing-key",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AtRestError {
    #[error("the value is sealed with key `{0}`, which this server does not hold")]
    UnknownKey(String),
    #[error("the sealed value is damaged or belongs elsewhere")]
    Damaged,
    #[error("key list: {0}")]
    KeyList(String),
}

struct AtRestKey {
    id: String,
    key: LessSafeKey,
}

/// The at-rest keys, the sealing one first.
pub struct AtRestKeys {
    keys: Vec<AtRestKey>,
}

impl std::fmt::Debug for AtRestKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        write!(f, "AtRestKeys({ids:?})")
    }
}

impl AtRestKeys {
    /// Parses a key list: one key per line (or separated by commas, for an environment
    /// variable) as `<id>:<base64url of 32 bytes>`; `#` starts a comment. The first key seals.
    pub fn parse(text: &str) -> Result<Self, AtRestError> {
        let mut keys = Vec::new();
        for entry in text
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .flat_map(|l| l.split(','))
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let (id, material) = entry.split_once(':').ok_or_else(|| {
                AtRestError::KeyList("each key reads `<id>:<base64url key>`".to_owned())
            })?;
            let id = id.trim();
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(AtRestError::KeyList(format!(
                    "`{id}` is not a key id (letters, digits and `-`)"
                )));
            }
            let bytes = URL_SAFE_NO_PAD
                .decode(material.trim())
                .ok()
                .filter(|b| b.len() == KEY_LEN)
                .ok_or_else(|| {
                    AtRestError::KeyList(format!("key `{id}` is not 32 bytes in base64url"))
                })?;
            if keys.iter().any(|k: &AtRestKey| k.id == id) {
                return Err(AtRestError::KeyList(format!("key id `{id}` appears twice")));
            }
            keys.push(AtRestKey {
                id: id.to_owned(),
                key: aead_key(&bytes),
            });
        }
        if keys.is_empty() {
            return Err(AtRestError::KeyList("no key".to_owned()));
        }
        Ok(Self { keys })
    }

    /// A new random key as one line of a key list.
    pub fn new_key_line() -> String {
        let mut id = [0u8; 6];
        crate::secret::fill_random(&mut id);
        let mut material = [0u8; KEY_LEN];
        crate::secret::fill_random(&mut material);
        format!("{}:{}", hex::encode(id), URL_SAFE_NO_PAD.encode(material))
    }

    /// One fresh key held only in memory (tools, tests, fuzzing).
    pub fn ephemeral() -> Self {
        match Self::parse(&Self::new_key_line()) {
            Ok(keys) => keys,
            Err(_) => unreachable!("a generated key line always parses"),
        }
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.id.as_str())
    }

    /// Whether `value` is in the sealed format at all (older stores kept some values plain).
    pub fn is_sealed(value: &str) -> bool {
        value.starts_with(SEALED_PREFIX)
    }

    /// Whether `value` is sealed under the key that seals now.
    pub fn is_current(&self, value: &str) -> bool {
        key_id_of(value) == Some(self.current_id())
    }

    /// Seals `plaintext` as the `purpose` value of `owner` under the first key.
    pub fn seal(&self, purpose: Purpose, owner: &str, plaintext: &[u8]) -> String {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        crate::secret::fill_random(&mut nonce);
        let mut in_out = plaintext.to_vec();
        let sealed = key.key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(additional_data(purpose, owner)),
            &mut in_out,
        );
        if sealed.is_err() {
            unreachable!("AES-GCM sealing fails only for inputs beyond 64 GiB");
        }
        let mut body = nonce.to_vec();
        body.extend_from_slice(&in_out);
        format!("{SEALED_PREFIX}{}.{}", key.id, URL_SAFE_NO_PAD.encode(body))
    }

    /// Opens a value [`AtRestKeys::seal`] sealed as the `purpose` value of `owner`.
    pub fn open(
        &self,
        purpose: Purpose,
        owner: &str,
        sealed: &str,
    ) -> Result<Vec<u8>, AtRestError> {
        let (id, body) = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|rest| rest.split_once('.'))
            .ok_or(AtRestError::Damaged)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| AtRestError::UnknownKey(id.to_owned()))?;
        let mut bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| AtRestError::Damaged)?;
        if bytes.len() < NONCE_LEN {
            return Err(AtRestError::Damaged);
        }
        let mut ciphertext = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| AtRestError::Damaged)?;
        let plaintext = key
            .key
            .open_in_place(
                nonce,
                Aad::from(additional_data(purpose, owner)),
                &mut ciphertext,
            )
            .map_err(|_| AtRestError::Damaged)?;
        Ok(plaintext.to_vec())
    }

    /// Opens a sealed UTF-8 value, or takes a value an older store kept plain as it is.
    pub fn open_text(
        &self,
        purpose: Purpose,
        owner: &str,
        stored: &str,
    ) -> Result<String, AtRestError> {
        if !Self::is_sealed(stored) {
            return Ok(stored.to_owned());
        }
        String::from_utf8(self.open(purpose, owner, stored)?).map_err(|_| AtRestError::Damaged)
    }

    /// `stored` sealed under the current key: opened (or taken plain) and sealed again.
    pub fn reseal(
        &self,
        purpose: Purpose,
        owner: &str,
        stored: &str,
    ) -> Result<String, AtRestError> {
        let plaintext = if Self::is_sealed(stored) {
            self.open(purpose, owner, stored)?
        } else {
            stored.as_bytes().to_vec()
        };
        Ok(self.seal(purpose, owner, &plaintext))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{what} `{id}`: {problem}")]
    Value {
        what: &'static str,
        id: String,
        problem: AtRestError,
    },
}

/// Seals under the current key every stored value that is not under it yet (with
/// `only_plain`, only the values an older version kept plain). How many were sealed.
///
/// A value changed meanwhile (a re-enrollment) is left to its writer, who sealed it already.
pub async fn reseal_store(
    store: &dyn Store,
    keys: &AtRestKeys,
    only_plain: bool,
) -> Result<u64, ResealError> {
    let mut resealed = 0;
    for (column, purpose, what) in [
        (SealedColumn::OtpSecret, Purpose::TotpSecret, "TOTP secret"),
        (SealedColumn::SigningKey, Purpose::SigningKey, "signing key"),
    ] {
        for (id, stored) in store.sealed_values(column).await? {
            let due = if only_plain {
                !AtRestKeys::is_sealed(&stored)
            } else {
                !keys.is_current(&stored)
            };
            if !due {
                continue;
            }
            let new = keys
                .reseal(purpose, &id, &stored)
                .map_err(|problem| ResealError::Value {
                    what,
                    id: id.clone(),
                    problem,
                })?;
            if store
                .replace_sealed_value(column, &id, &stored, &new)
                .await?
            {
                resealed += 1;
            }
        }
    }
    Ok(resealed)
}

fn aead_key(bytes: &[u8]) -> LessSafeKey {
    match UnboundKey::new(&AES_256_GCM, bytes) {
        Ok(key) => LessSafeKey::new(key),
        Err(_) => unreachable!("the key length is checked before"),
    }
}

fn key_id_of(sealed: &str) -> Option<&str> {
    let rest = sealed.strip_prefix(SEALED_PREFIX)?;
    rest.split_once('.').map(|(id, _)| id)
}

fn additional_data(purpose: Purpose, owner: &str) -> Vec<u8> {
    let mut aad = purpose.label().as_bytes().to_vec();
    aad.push(0);
    aad.extend_from_slice(owner.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_as_what_and_whose_it_is() {
        let keys = AtRestKeys::ephemeral();
        let sealed = keys.seal(Purpose::TotpSecret, "totp|dev_1", b"JBSWY3DPEHPK3PXP");
        assert!(AtRestKeys::is_sealed(&sealed));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            keys.open(Purpose::TotpSecret, "totp|dev_1", &sealed),
            Ok(b"JBSWY3DPEHPK3PXP".to_vec())
        );
        assert_eq!(
            keys.open(Purpose::TotpSecret, "totp|dev_2", &sealed),
            Err(AtRestError::Damaged)
        );
        assert_eq!(
            keys.open(Purpose::SigningKey, "totp|dev_1", &sealed),
            Err(AtRestError::Damaged)
        );
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        assert_eq!(
            keys.open(Purpose::TotpSecret, "totp|dev_1", &flipped),
            Err(AtRestError::Damaged)
        );
    }

    #[test]
    fn a_rotated_list_seals_with_the_first_key_and_opens_with_any() {
        let old_line = AtRestKeys::new_key_line();
        let old = AtRestKeys::parse(&old_line).expect("old");
        let sealed_before = old.seal(Purpose::SigningKey, "kid", b"pem");
        let rotated = AtRestKeys::parse(&format!(
            "{}\n# kept, until resealed\n{old_line}",
            AtRestKeys::new_key_line()
        ))
        .expect("rotated");
        assert!(!rotated.is_current(&sealed_before));
        assert_eq!(
            rotated.open(Purpose::SigningKey, "kid", &sealed_before),
            Ok(b"pem".to_vec())
        );
        let resealed = rotated
            .reseal(Purpose::SigningKey, "kid", &sealed_before)
            .expect("reseal");
        assert!(rotated.is_current(&resealed));
        assert_eq!(
            old.open(Purpose::SigningKey, "kid", &resealed),
            Err(AtRestError::UnknownKey(rotated.current_id().to_owned()))
        );
        // Comma-separated, as an environment variable carries it.
        let env = format!("{},{old_line}", AtRestKeys::new_key_line());
        assert_eq!(AtRestKeys::parse(&env).expect("env").ids().count(), 2);
    }

    #[test]
    fn malformed_key_lists_are_refused() {
        for bad in ["", "# only a comment", "nocolon", "id:short", "bad id:AAAA"] {
            assert!(AtRestKeys::parse(bad).is_err(), "{bad:?}");
        }
        let line = AtRestKeys::new_key_line();
        assert!(AtRestKeys::parse(&format!("{line}\n{line}")).is_err());
    }

    #[test]
    fn plain_values_of_older_stores_are_read_and_resealed() {
        let keys = AtRestKeys::ephemeral();
        assert_eq!(
            keys.open_text(Purpose::TotpSecret, "a", "JBSWY3DPEHPK3PXP"),
            Ok("JBSWY3DPEHPK3PXP".to_owned())
        );
        let sealed = keys
            .reseal(Purpose::TotpSecret, "a", "JBSWY3DPEHPK3PXP")
            .expect("reseal");
        assert_eq!(
            keys.open_text(Purpose::TotpSecret, "a", &sealed),
            Ok("JBSWY3DPEHPK3PXP".to_owned())
        );
    }
}
