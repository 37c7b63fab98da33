//! Digest extraction from image references and occurrence resource URIs.
//!
//! Binary Authorization looks attestations up by digest only (spec §5.1): the registry and
//! repository are not compared, so this module only ever needs the `@sha256:<hex>` suffix.

/// Length of `sha256:` plus 64 hex digits.
const DIGEST_LEN: usize = 7 + 64;

/// The sha256 digest ("sha256:<64 lowercase hex>") of an image reference, if it has a
/// valid one.
///
/// The digest must close the reference: `REPO@sha256:<hex>` and `REPO:TAG@sha256:<hex>`
/// both qualify (A11). Other algorithms (`sha512:`), upper-case or short hex, or an
/// empty repository do not (A12): the enforcer rejects them with "Expected digest with
/// sha256 scheme, but got tag or malformed digest".
pub fn image_digest(image: &str) -> Option<&str> {
    let (repository, digest) = image.rsplit_once('@')?;
    if repository.is_empty() || !is_sha256_digest(digest) {
        return None;
    }
    Some(digest)
}

/// The digest an occurrence's `resourceUri` names: it must end with `@sha256:<hex>`; a
/// leading `https://` (older gcloud and REST examples) makes no difference (A14).
pub(crate) fn resource_uri_digest(uri: &str) -> Option<&str> {
    let uri = uri.trim();
    let uri = uri.strip_prefix("https://").unwrap_or(uri);
    image_digest(uri)
}

/// `sha256:` followed by exactly 64 lower-case hex digits.
pub(crate) fn is_sha256_digest(text: &str) -> bool {
    text.len() == DIGEST_LEN
        && text.strip_prefix("sha256:").is_some_and(|hex| {
            hex.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn digests() {
        let by_digest = format!("gcr.io/p/app@sha256:{HEX}");
        assert_eq!(image_digest(&by_digest), Some(&by_digest[13..]));
        let tag_and_digest = format!("gcr.io/p/app:1.0@sha256:{HEX}");
        assert!(image_digest(&tag_and_digest).is_some());
        assert_eq!(image_digest("gcr.io/p/app:1.0"), None);
        assert_eq!(image_digest("gcr.io/p/app"), None);
        assert_eq!(image_digest(&format!("@sha256:{HEX}")), None);
        assert_eq!(
            image_digest(&format!("gcr.io/p/app@sha256:{}", HEX.to_uppercase())),
            None
        );
        assert_eq!(
            image_digest(&format!("gcr.io/p/app@sha256:{}", &HEX[1..])),
            None
        );
        assert_eq!(
            image_digest(&format!("gcr.io/p/app@sha512:{HEX}{HEX}")),
            None
        );
        assert_eq!(image_digest(&format!("gcr.io/p/app@sha256:{HEX}0")), None);
        assert_eq!(image_digest(&format!("gcr.io/p/app@sha256:{HEX} ")), None);
    }

    #[test]
    fn resource_uris() {
        let plain = format!("gcr.io/p/app@sha256:{HEX}");
        let https = format!("https://gcr.io/p/app@sha256:{HEX}");
        assert!(resource_uri_digest(&plain).is_some());
        assert_eq!(resource_uri_digest(&https), resource_uri_digest(&plain));
        assert_eq!(resource_uri_digest("https://gcr.io/p/app:1"), None);
    }
}
