//! PKIX (X.509 SubjectPublicKeyInfo) keys: ECDSA P-256/P-384/P-521 and RSA PKCS#1 v1.5 /
//! PSS, as named by `pkixPublicKey.signatureAlgorithm` (spec §5.3).
//!
//! A key file that is not a PEM `PUBLIC KEY` holding a DER SubjectPublicKeyInfo is an
//! input error (the server would not have accepted it). Everything else — an algorithm we
//! do not implement, a key that does not fit its declared algorithm, an RSA modulus the
//! `rsa` crate refuses — is kept and explained in the check's detail, because the
//! attestor itself may still be valid for the real enforcer.

use base64::Engine as _;
use sha2::{Digest, Sha256, Sha512};
use spki::der::Decode;
use spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};

const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RsaPadding {
    Pkcs1,
    Pss,
}

/// A declared `signatureAlgorithm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Ecdsa(Curve),
    Rsa {
        padding: RsaPadding,
        bits: usize,
        hash: Hash,
    },
    /// Absent or `SIGNATURE_ALGORITHM_UNSPECIFIED`.
    Unspecified,
    /// A name we do not implement (e.g. `ML_DSA_65`) or do not know.
    Unsupported,
}

impl Algorithm {
    /// Maps both the v1 names and the newer `*_SIGN_*` aliases.
    pub(crate) fn parse(name: &str) -> Algorithm {
        use Algorithm::{Ecdsa, Rsa};
        use RsaPadding::{Pkcs1, Pss};
        let rsa = |padding, bits, hash| Rsa {
            padding,
            bits,
            hash,
        };
        match name {
            "ECDSA_P256_SHA256" | "EC_SIGN_P256_SHA256" => Ecdsa(Curve::P256),
            "ECDSA_P384_SHA384" | "EC_SIGN_P384_SHA384" => Ecdsa(Curve::P384),
            "ECDSA_P521_SHA512" | "EC_SIGN_P521_SHA512" => Ecdsa(Curve::P521),
            "RSA_PSS_2048_SHA256" | "RSA_SIGN_PSS_2048_SHA256" => rsa(Pss, 2048, Hash::Sha256),
            "RSA_PSS_3072_SHA256" | "RSA_SIGN_PSS_3072_SHA256" => rsa(Pss, 3072, Hash::Sha256),
            "RSA_PSS_4096_SHA256" | "RSA_SIGN_PSS_4096_SHA256" => rsa(Pss, 4096, Hash::Sha256),
            "RSA_PSS_4096_SHA512" | "RSA_SIGN_PSS_4096_SHA512" => rsa(Pss, 4096, Hash::Sha512),
            "RSA_SIGN_PKCS1_2048_SHA256" => rsa(Pkcs1, 2048, Hash::Sha256),
            "RSA_SIGN_PKCS1_3072_SHA256" => rsa(Pkcs1, 3072, Hash::Sha256),
            "RSA_SIGN_PKCS1_4096_SHA256" => rsa(Pkcs1, 4096, Hash::Sha256),
            "RSA_SIGN_PKCS1_4096_SHA512" => rsa(Pkcs1, 4096, Hash::Sha512),
            "" | "SIGNATURE_ALGORITHM_UNSPECIFIED" => Algorithm::Unspecified,
            _ => Algorithm::Unsupported,
        }
    }
}

/// The public key inside `publicKeyPem`, decoded as far as its algorithm allows.
pub(crate) enum PkixKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
    Rsa(rsa::RsaPublicKey),
    /// A well-formed SubjectPublicKeyInfo we cannot use; the text says what it holds.
    Unusable(String),
}

impl std::fmt::Debug for PkixKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl PkixKey {
    /// "an ECDSA P-256 key", "an RSA-2048 key", ...
    pub(crate) fn describe(&self) -> String {
        use rsa::traits::PublicKeyParts as _;
        match self {
            PkixKey::P256(_) => "an ECDSA P-256 key".into(),
            PkixKey::P384(_) => "an ECDSA P-384 key".into(),
            PkixKey::P521(_) => "an ECDSA P-521 key".into(),
            PkixKey::Rsa(key) => format!("an RSA-{} key", key.n().bits()),
            PkixKey::Unusable(what) => what.clone(),
        }
    }
}

/// A decoded `publicKeyPem`: the key and the DER SubjectPublicKeyInfo it came from.
#[derive(Debug)]
pub(crate) struct ParsedPem {
    pub key: PkixKey,
    pub der: Vec<u8>,
}

/// Decodes a PEM `PUBLIC KEY` block. `Err` only when the text is not a SubjectPublicKeyInfo
/// at all; unusable keys come back as [`PkixKey::Unusable`].
pub(crate) fn parse_public_key_pem(pem: &str) -> Result<ParsedPem, String> {
    let der = pem_body(pem)?;
    let key = {
        let spki = SubjectPublicKeyInfoRef::from_der(&der)
            .map_err(|e| format!("publicKeyPem is not a DER SubjectPublicKeyInfo: {e}"))?;
        decode_spki(&spki)
    };
    Ok(ParsedPem { key, der })
}

/// The RFC 6920 id the server derives when a PKIX key has no `id` (A26).
pub(crate) fn ni_key_id(der: &[u8]) -> String {
    let hash = Sha256::digest(der);
    format!(
        "ni:///sha-256;{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash)
    )
}

/// The base64 body of the `PUBLIC KEY` block. Done by hand rather than with a strict PEM
/// parser so that indentation, CRLF line ends and unusual line lengths (hand-edited YAML)
/// do not matter.
fn pem_body(pem: &str) -> Result<Vec<u8>, String> {
    let begin = pem
        .find("-----BEGIN ")
        .ok_or("publicKeyPem has no -----BEGIN line")?;
    let after_begin = pem.get(begin + 11..).unwrap_or_default();
    let label_end = after_begin
        .find("-----")
        .ok_or("publicKeyPem has a malformed -----BEGIN line")?;
    let label = after_begin.get(..label_end).unwrap_or_default();
    if label != "PUBLIC KEY" {
        return Err(format!(
            "publicKeyPem must be a `PUBLIC KEY` (SubjectPublicKeyInfo) PEM block, found `{label}`"
        ));
    }
    let body_and_rest = after_begin.get(label_end + 5..).unwrap_or_default();
    let end = body_and_rest
        .find("-----END PUBLIC KEY-----")
        .ok_or("publicKeyPem has no -----END PUBLIC KEY----- line")?;
    let body: String = body_and_rest
        .get(..end)
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    decode_base64(&body).map_err(|e| format!("publicKeyPem body is not base64: {e}"))
}

fn decode_spki(spki: &SubjectPublicKeyInfoRef<'_>) -> PkixKey {
    let point = spki.subject_public_key.raw_bytes();
    let oid = spki.algorithm.oid;
    if oid == OID_EC_PUBLIC_KEY {
        let curve = match spki.algorithm.parameters_oid() {
            Ok(curve) => curve,
            Err(_) => return PkixKey::Unusable("an EC key without a named curve".into()),
        };
        let unusable = |name: &str| PkixKey::Unusable(format!("an invalid {name} point"));
        return if curve == OID_P256 {
            p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_or_else(|_| unusable("P-256"), PkixKey::P256)
        } else if curve == OID_P384 {
            p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_or_else(|_| unusable("P-384"), PkixKey::P384)
        } else if curve == OID_P521 {
            p521::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_or_else(|_| unusable("P-521"), PkixKey::P521)
        } else {
            PkixKey::Unusable(format!("an EC key on curve {curve}"))
        };
    }
    if oid == OID_RSA || oid == OID_RSA_PSS {
        use rsa::pkcs1::DecodeRsaPublicKey as _;
        return match rsa::RsaPublicKey::from_pkcs1_der(point) {
            Ok(key) => PkixKey::Rsa(key),
            Err(e) => PkixKey::Unusable(format!("an RSA key that cannot be used ({e})")),
        };
    }
    PkixKey::Unusable(format!("a key of algorithm {oid}"))
}

/// Verifies `signature` over `message` with `key` under the declared `algorithm`.
/// `Err` is the detail text, without the key id (the caller adds context).
pub(crate) fn verify_pkix(
    key: &PkixKey,
    algorithm: &Algorithm,
    algorithm_name: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Failure> {
    match (algorithm, key) {
        (Algorithm::Unsupported, _) => Err(Failure::Setup(format!(
            "unsupported signature algorithm {algorithm_name}"
        ))),
        (Algorithm::Unspecified, _) => Err(Failure::Setup(
            "the key declares no signatureAlgorithm".into(),
        )),
        (Algorithm::Ecdsa(Curve::P256), PkixKey::P256(k)) => ecdsa_p256(k, message, signature),
        (Algorithm::Ecdsa(Curve::P384), PkixKey::P384(k)) => ecdsa_p384(k, message, signature),
        (Algorithm::Ecdsa(Curve::P521), PkixKey::P521(k)) => ecdsa_p521(k, message, signature),
        (
            Algorithm::Rsa {
                padding,
                bits,
                hash,
            },
            PkixKey::Rsa(k),
        ) => {
            use rsa::traits::PublicKeyParts as _;
            let actual = k.n().bits();
            if actual != *bits {
                return Err(Failure::Setup(format!(
                    "key is an RSA-{actual} key, but the attestor declares {algorithm_name}"
                )));
            }
            rsa_verify(k, *padding, *hash, message, signature)
        }
        (Algorithm::Ecdsa(curve), other) => Err(Failure::Setup(format!(
            "key is {}, but the attestor declares {algorithm_name} (ECDSA {})",
            other.describe(),
            curve.name()
        ))),
        (Algorithm::Rsa { .. }, other) => Err(Failure::Setup(format!(
            "key is {}, but the attestor declares {algorithm_name}",
            other.describe()
        ))),
    }
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The key/algorithm set-up cannot verify anything (mismatch, unsupported).
    Setup(String),
    /// The signature bytes are malformed for the algorithm.
    Malformed(String),
    /// The signature is well-formed but does not verify.
    Mismatch,
}

macro_rules! ecdsa_verifier {
    ($name:ident, $curve:ident, $size:expr) => {
        fn $name(
            key: &$curve::ecdsa::VerifyingKey,
            message: &[u8],
            signature: &[u8],
        ) -> Result<(), Failure> {
            use $curve::ecdsa::signature::Verifier as _;
            // DER (what `openssl dgst -sign` and Cloud KMS produce) first, then the fixed
            // r||s form some signers emit.
            let sig = $curve::ecdsa::Signature::from_der(signature)
                .or_else(|_| $curve::ecdsa::Signature::from_slice(signature))
                .map_err(|_| {
                    Failure::Malformed(format!(
                        "malformed ECDSA signature ({} bytes: neither DER nor {}-byte r||s)",
                        signature.len(),
                        2 * $size
                    ))
                })?;
            key.verify(message, &sig).map_err(|_| Failure::Mismatch)
        }
    };
}

ecdsa_verifier!(ecdsa_p256, p256, 32);
ecdsa_verifier!(ecdsa_p384, p384, 48);
ecdsa_verifier!(ecdsa_p521, p521, 66);

fn rsa_verify(
    key: &rsa::RsaPublicKey,
    padding: RsaPadding,
    hash: Hash,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Failure> {
    use rsa::traits::PublicKeyParts as _;
    if signature.len() != key.size() {
        return Err(Failure::Malformed(format!(
            "malformed RSA signature ({} bytes, the key needs {})",
            signature.len(),
            key.size()
        )));
    }
    let (hashed, hash_len): (Vec<u8>, usize) = match hash {
        Hash::Sha256 => (Sha256::digest(message).to_vec(), 32),
        Hash::Sha512 => (Sha512::digest(message).to_vec(), 64),
    };
    let ok = match (padding, hash) {
        (RsaPadding::Pkcs1, Hash::Sha256) => key
            .verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &hashed, signature)
            .is_ok(),
        (RsaPadding::Pkcs1, Hash::Sha512) => key
            .verify(rsa::Pkcs1v15Sign::new::<Sha512>(), &hashed, signature)
            .is_ok(),
        (RsaPadding::Pss, _) => {
            // Cloud KMS signs with salt length = digest length; `openssl dgst` defaults to
            // the maximum salt length. Accept both (the real enforcer auto-detects).
            let em_len = (key.n().bits() - 1).div_ceil(8);
            let max_salt = em_len.saturating_sub(hash_len + 2);
            [hash_len, max_salt].iter().any(|&salt| {
                let scheme = match hash {
                    Hash::Sha256 => rsa::Pss::new_with_salt::<Sha256>(salt),
                    Hash::Sha512 => rsa::Pss::new_with_salt::<Sha512>(salt),
                };
                key.verify(scheme, &hashed, signature).is_ok()
            })
        }
    };
    if ok { Ok(()) } else { Err(Failure::Mismatch) }
}

/// Base64 in any of the alphabets the APIs and gcloud print (A25): standard or URL-safe,
/// padded or not, with line breaks or not.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    const ENGINE: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
    );
    let normalized: String = text
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            other => other,
        })
        .collect();
    ENGINE
        .decode(normalized.trim_end_matches('='))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names() {
        assert_eq!(
            Algorithm::parse("EC_SIGN_P384_SHA384"),
            Algorithm::Ecdsa(Curve::P384)
        );
        assert_eq!(
            Algorithm::parse("RSA_SIGN_PSS_4096_SHA512"),
            Algorithm::parse("RSA_PSS_4096_SHA512")
        );
        assert_eq!(Algorithm::parse("ML_DSA_65"), Algorithm::Unsupported);
        assert_eq!(Algorithm::parse(""), Algorithm::Unspecified);
    }

    #[test]
    fn pem_errors() {
        assert!(parse_public_key_pem("hello").is_err());
        let err = parse_public_key_pem(
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
        )
        .expect_err("private");
        assert!(err.contains("`EC PRIVATE KEY`"), "{err}");
        let err =
            parse_public_key_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
                .expect_err("not spki");
        assert!(err.contains("SubjectPublicKeyInfo"), "{err}");
    }
}
