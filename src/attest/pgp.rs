//! OpenPGP attestor keys and signatures (rpgp).
//!
//! Attestations made with gpg are attached signatures (`gpg --sign --armor`): the signed
//! literal data *is* the payload (spec §5.5). Detached signatures over
//! `serializedPayload` and clear-signed messages are accepted as well.
//!
//! rpgp checks the cryptography only; the policy of what to trust is ours and mirrors
//! what a careful verifier (and gpg) refuses:
//! - hash algorithms MD5, SHA-1 and RIPEMD-160 (collision-prone) are refused;
//! - RSA keys under 2048 bits are refused; only RSA, ECDSA and EdDSA keys are accepted;
//! - a key (or signing subkey) that is revoked, or has expired by the evaluation time,
//!   does not verify, and neither does a signature made after expiry or itself expired;
//! - subkeys count only with a valid binding signature, the signing flag and a valid
//!   back-signature.

use std::io::Read as _;
use std::time::{Duration, SystemTime};

use pgp::composed::{Any, Deserializable as _, DetachedSignature, Message, SignedPublicKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::crypto::public_key::PublicKeyAlgorithm;
use pgp::packet::{Signature, SignatureType};
use pgp::types::{
    Fingerprint, KeyDetails, KeyId, KeyVersion, PublicParams, SignatureBytes, Tag, Timestamp,
    VerifyingKey,
};

use super::verify::Failure;

/// Largest signed content accepted (payloads are a few hundred bytes; this stops
/// decompression bombs).
const MAX_SIGNED_CONTENT: u64 = 1 << 20;

/// A parsed `asciiArmoredPgpPublicKey`.
pub(crate) struct PgpKey {
    key: SignedPublicKey,
    /// RFC 4880 v4 fingerprint, upper-case hex: the key id the server assigns.
    pub fingerprint: String,
    /// Keys that may sign: index 0 is the primary key, then usable signing subkeys.
    signers: Vec<Signer>,
    /// Why the primary key cannot be used at all (no valid self-signature).
    broken: Option<String>,
}

impl std::fmt::Debug for PgpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgpKey({})", self.fingerprint)
    }
}

struct Signer {
    /// `None` for the primary key, else the index in `key.public_subkeys`.
    subkey: Option<usize>,
    fingerprint: String,
    created: SystemTime,
    expires: Option<SystemTime>,
    revoked: bool,
    /// Why this key is too weak to be trusted, if it is.
    weak: Option<String>,
}

/// What a successful cryptographic check established; the trust policy is applied to it
/// by [`PgpKey::check_policy`] at evaluation time.
#[derive(Debug, Clone)]
pub(crate) struct PgpVerified {
    pub signed: Vec<u8>,
    signer: usize,
    hash: HashAlgorithm,
    created: Option<SystemTime>,
    signature_expires: Option<SystemTime>,
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A key's expiry from the newest of `signatures` that carries one.
fn expiry(created: SystemTime, signatures: &[&Signature]) -> Option<SystemTime> {
    let newest = signatures
        .iter()
        .max_by_key(|s| s.created().map(|t| t.as_secs()).unwrap_or(0))?;
    let lifetime = newest.key_expiration_time()?;
    if lifetime.as_secs() == 0 {
        return None;
    }
    created.checked_add(lifetime.into())
}

fn weakness(params: &PublicParams, algorithm: PublicKeyAlgorithm) -> Option<String> {
    use rsa::traits::PublicKeyParts as _;
    match params {
        PublicParams::RSA(rsa) => {
            let bits = rsa.key.n().bits();
            (bits < 2048).then(|| format!("is RSA-{bits}; RSA keys under 2048 bits are refused"))
        }
        PublicParams::ECDSA(_)
        | PublicParams::EdDSALegacy(_)
        | PublicParams::Ed25519(_)
        | PublicParams::Ed448(_) => None,
        _ => Some(format!(
            "uses {algorithm:?}, which is not accepted for attestations"
        )),
    }
}

impl PgpKey {
    /// Parses an ASCII-armored public key. `Err` is an input error message.
    pub(crate) fn parse(armored: &str) -> Result<PgpKey, String> {
        let (key, _headers) = SignedPublicKey::from_string(armored)
            .map_err(|e| format!("asciiArmoredPgpPublicKey is not an OpenPGP public key: {e}"))?;
        let primary = &key.primary_key;
        let fingerprint = hex_upper(primary.fingerprint().as_bytes());

        let mut self_signatures: Vec<&Signature> = Vec::new();
        for user in &key.details.users {
            for sig in &user.signatures {
                if sig.typ() != Some(SignatureType::CertRevocation)
                    && sig
                        .verify_certification(primary, Tag::UserId, &user.id)
                        .is_ok()
                {
                    self_signatures.push(sig);
                }
            }
        }
        for sig in &key.details.direct_signatures {
            if sig.verify_key(primary).is_ok() {
                self_signatures.push(sig);
            }
        }
        let broken = self_signatures
            .is_empty()
            .then(|| "has no valid self-signature".to_string());
        let revoked = key
            .details
            .revocation_signatures
            .iter()
            .any(|sig| sig.verify_key(primary).is_ok());
        let created: SystemTime = primary.created_at().into();
        let primary_expires = expiry(created, &self_signatures);
        let mut signers = vec![Signer {
            subkey: None,
            fingerprint: fingerprint.clone(),
            created,
            expires: primary_expires,
            revoked,
            weak: weakness(primary.public_params(), primary.algorithm()),
        }];

        for (index, subkey) in key.public_subkeys.iter().enumerate() {
            let mut bindings: Vec<&Signature> = Vec::new();
            let mut sub_revoked = false;
            for sig in &subkey.signatures {
                if sig.verify_subkey_binding(primary, &subkey.key).is_err() {
                    continue;
                }
                match sig.typ() {
                    Some(SignatureType::SubkeyRevocation) => sub_revoked = true,
                    Some(SignatureType::SubkeyBinding) => {
                        let back_signed = sig.embedded_signature().is_some_and(|back| {
                            back.verify_primary_key_binding(&subkey.key, primary)
                                .is_ok()
                        });
                        if sig.key_flags().sign() && back_signed {
                            bindings.push(sig);
                        }
                    }
                    _ => {}
                }
            }
            if bindings.is_empty() {
                continue;
            }
            let sub_created: SystemTime = subkey.key.created_at().into();
            signers.push(Signer {
                subkey: Some(index),
                fingerprint: hex_upper(subkey.key.fingerprint().as_bytes()),
                created: sub_created,
                // A subkey cannot outlive its primary key.
                expires: match (expiry(sub_created, &bindings), primary_expires) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                },
                revoked: sub_revoked || revoked,
                weak: weakness(subkey.key.public_params(), subkey.key.algorithm()),
            });
        }

        Ok(PgpKey {
            key,
            fingerprint,
            signers,
            broken,
        })
    }

    /// Whether `id` names this key: the fingerprint (hex, any case), or its last 16 hex
    /// digits (the "long key id" some legacy `pgpKeyId` fields carry).
    pub(crate) fn matches_legacy_id(&self, id: &str) -> bool {
        let id: String = id
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let id = id.strip_prefix("0X").unwrap_or(&id);
        id == self.fingerprint || (id.len() == 16 && self.fingerprint.ends_with(id))
    }

    fn verifying_key(&self, signer: &Signer) -> Option<SignerKey<'_>> {
        match signer.subkey {
            None => Some(SignerKey::Primary(&self.key.primary_key)),
            Some(index) => self
                .key
                .public_subkeys
                .get(index)
                .map(|s| SignerKey::Subkey(&s.key)),
        }
    }

    /// Checks the signature cryptographically and returns what was signed.
    /// `detached_payload` is the occurrence's `serializedPayload`, used when the signature
    /// is detached.
    pub(crate) fn verify(
        &self,
        signature: &[u8],
        detached_payload: Option<&[u8]>,
    ) -> Result<PgpVerified, Failure> {
        if let Some(reason) = &self.broken {
            return Err(Failure::Setup(format!(
                "PGP key {} {reason}",
                self.fingerprint
            )));
        }
        let armored = std::str::from_utf8(signature)
            .ok()
            .filter(|text| text.contains("-----BEGIN PGP"));
        if let Some(text) = armored {
            let (any, _headers) = Any::from_string(text)
                .map_err(|e| Failure::Malformed(format!("malformed PGP signature: {e}")))?;
            return match any {
                Any::Message(message) => self.verify_message(message),
                Any::Signature(detached) => self.verify_detached(&detached, detached_payload),
                Any::Cleartext(cleartext) => {
                    let signed = cleartext.signed_text().into_bytes();
                    self.first_valid(|key| cleartext.verify(key).cloned().ok(), signed)
                }
                Any::PublicKey(_) | Any::SecretKey(_) => Err(Failure::Malformed(
                    "the signature field holds a PGP key, not a signature".into(),
                )),
            };
        }
        match Message::from_bytes(signature) {
            Ok(message) => self.verify_message(message),
            Err(_) => match DetachedSignature::from_bytes(signature) {
                Ok(detached) => self.verify_detached(&detached, detached_payload),
                Err(e) => Err(Failure::Malformed(format!("malformed PGP signature: {e}"))),
            },
        }
    }

    fn verify_message(&self, message: Message<'_>) -> Result<PgpVerified, Failure> {
        let mut message = if message.is_compressed() {
            message
                .decompress()
                .map_err(|e| Failure::Malformed(format!("cannot decompress PGP message: {e}")))?
        } else {
            message
        };
        if !message.is_signed() {
            return Err(Failure::Malformed("the PGP message is not signed".into()));
        }
        let mut signed = Vec::new();
        (&mut message)
            .take(MAX_SIGNED_CONTENT + 1)
            .read_to_end(&mut signed)
            .map_err(|e| Failure::Malformed(format!("cannot read PGP message: {e}")))?;
        if signed.len() as u64 > MAX_SIGNED_CONTENT {
            return Err(Failure::Malformed(format!(
                "PGP signed content is larger than {MAX_SIGNED_CONTENT} bytes"
            )));
        }
        self.first_valid(|key| message.verify(key).cloned().ok(), signed)
    }

    fn verify_detached(
        &self,
        detached: &DetachedSignature,
        payload: Option<&[u8]>,
    ) -> Result<PgpVerified, Failure> {
        let payload = payload.ok_or_else(|| {
            Failure::Malformed(
                "detached PGP signature, but the occurrence has no serializedPayload".into(),
            )
        })?;
        let signature = &detached.signature;
        self.first_valid(
            |key| {
                signature
                    .verify(key, payload)
                    .ok()
                    .map(|()| signature.clone())
            },
            payload.to_vec(),
        )
    }

    /// Tries each signing key; the first that verifies names the signer.
    fn first_valid(
        &self,
        mut check: impl FnMut(&SignerKey<'_>) -> Option<Signature>,
        signed: Vec<u8>,
    ) -> Result<PgpVerified, Failure> {
        for (index, signer) in self.signers.iter().enumerate() {
            let Some(key) = self.verifying_key(signer) else {
                continue;
            };
            if let Some(sig) = check(&key) {
                let created: Option<SystemTime> = sig.created().map(Into::into);
                let signature_expires = match (created, sig.signature_expiration_time()) {
                    (Some(at), Some(lifetime)) if lifetime.as_secs() > 0 => {
                        at.checked_add(lifetime.into())
                    }
                    _ => None,
                };
                return Ok(PgpVerified {
                    signed,
                    signer: index,
                    hash: sig.hash_alg().unwrap_or(HashAlgorithm::None),
                    created,
                    signature_expires,
                });
            }
        }
        Err(Failure::Mismatch)
    }

    /// Applies the trust policy (module docs) to a cryptographically valid signature.
    pub(crate) fn check_policy(
        &self,
        verified: &PgpVerified,
        now: SystemTime,
    ) -> Result<(), String> {
        let Some(signer) = self.signers.get(verified.signer) else {
            return Err("internal: unknown PGP signer".into());
        };
        let which = if signer.subkey.is_some() {
            format!(
                "PGP subkey {} of key {}",
                signer.fingerprint, self.fingerprint
            )
        } else {
            format!("PGP key {}", self.fingerprint)
        };
        if matches!(
            verified.hash,
            HashAlgorithm::Md5
                | HashAlgorithm::Sha1
                | HashAlgorithm::Ripemd160
                | HashAlgorithm::None
        ) {
            return Err(format!(
                "PGP signature uses hash {}, which is refused (use SHA-256 or stronger)",
                hash_name(verified.hash)
            ));
        }
        if let Some(weak) = &signer.weak {
            return Err(format!("{which} {weak}"));
        }
        if signer.revoked {
            return Err(format!("{which} is revoked"));
        }
        if let Some(expires) = signer.expires {
            if now >= expires {
                return Err(format!(
                    "{which} expired on {} (an expired key does not verify)",
                    date(expires)
                ));
            }
            if verified.created.is_some_and(|at| at >= expires) {
                return Err(format!("signature was made after {which} expired"));
            }
        }
        if verified.created.is_some_and(|at| at < signer.created) {
            return Err(format!("signature predates {which}"));
        }
        if verified.signature_expires.is_some_and(|at| now >= at) {
            return Err("PGP signature has expired".into());
        }
        Ok(())
    }
}

/// The primary key or a subkey, as one type: rpgp's verification functions take
/// `&impl VerifyingKey`, which a `&dyn VerifyingKey` is not.
#[derive(Debug, Clone, Copy)]
enum SignerKey<'a> {
    Primary(&'a pgp::packet::PublicKey),
    Subkey(&'a pgp::packet::PublicSubkey),
}

macro_rules! delegate {
    ($self:ident, $k:ident => $e:expr) => {
        match $self {
            SignerKey::Primary($k) => $e,
            SignerKey::Subkey($k) => $e,
        }
    };
}

impl KeyDetails for SignerKey<'_> {
    fn version(&self) -> KeyVersion {
        delegate!(self, k => k.version())
    }
    fn legacy_key_id(&self) -> KeyId {
        delegate!(self, k => k.legacy_key_id())
    }
    fn fingerprint(&self) -> Fingerprint {
        delegate!(self, k => k.fingerprint())
    }
    fn algorithm(&self) -> PublicKeyAlgorithm {
        delegate!(self, k => k.algorithm())
    }
    fn created_at(&self) -> Timestamp {
        delegate!(self, k => k.created_at())
    }
    fn legacy_v3_expiration_days(&self) -> Option<u16> {
        delegate!(self, k => k.legacy_v3_expiration_days())
    }
    fn public_params(&self) -> &PublicParams {
        delegate!(self, k => k.public_params())
    }
}

impl VerifyingKey for SignerKey<'_> {
    fn verify(
        &self,
        hash: HashAlgorithm,
        data: &[u8],
        sig: &SignatureBytes,
    ) -> pgp::errors::Result<()> {
        delegate!(self, k => VerifyingKey::verify(*k, hash, data, sig))
    }
}

fn hash_name(hash: HashAlgorithm) -> String {
    match hash {
        HashAlgorithm::Md5 => "MD5".into(),
        HashAlgorithm::Sha1 => "SHA-1".into(),
        HashAlgorithm::Ripemd160 => "RIPEMD-160".into(),
        other => format!("{other:?}"),
    }
}

/// `YYYY-MM-DD` (UTC) of a time, for messages.
fn date(time: SystemTime) -> String {
    let days = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
        / 86_400;
    // Civil-from-days (Howard Hinnant's algorithm), valid for the Unix era.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(SystemTime::UNIX_EPOCH), "1970-01-01");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_609_372_800);
        assert_eq!(date(t), "2020-12-31");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(date(t), "2000-02-29");
    }
}
