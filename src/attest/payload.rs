//! The signed "simple signing" payload (spec §5.6).
//!
//! Only `critical.image.docker-manifest-digest` decides: attestations are looked up by
//! digest and the enforcer does not compare `critical.identity.docker-reference` with the
//! Pod's image (A13), so neither do we.

/// The enforcer's words when a verified signature covers something unexpected (S29).
const UNEXPECTED: &str = "(Signature verified, but unexpected message was signed)";

/// Checks that a verified payload is simple-signing JSON naming `digest`.
pub(crate) fn check_payload(payload: &[u8], digest: &str) -> Result<(), String> {
    let json: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|e| format!("payload is not simple-signing JSON: {e} {UNEXPECTED}"))?;
    let named = json
        .get("critical")
        .and_then(|c| c.get("image"))
        .and_then(|i| i.get("docker-manifest-digest"))
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            format!(
                "payload is not simple-signing JSON: no string critical.image.docker-manifest-digest {UNEXPECTED}"
            )
        })?;
    if named != digest {
        return Err(format!("payload names digest {named}, image is {digest}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn payloads() {
        let good = format!(
            "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"x\"}},\"image\":{{\"docker-manifest-digest\":\"{D}\"}},\"type\":\"Google cloud binauthz container signature\"}}}}"
        );
        assert_eq!(check_payload(good.as_bytes(), D), Ok(()));
        let other = good.replace("0123", "4567");
        let err = check_payload(other.as_bytes(), D).expect_err("other digest");
        assert!(err.starts_with("payload names digest sha256:4567"), "{err}");
        let err = check_payload(b"hello", D).expect_err("not json");
        assert!(err.contains("Signature verified, but unexpected message was signed"));
        let err = check_payload(b"{\"critical\":{}}", D).expect_err("no digest");
        assert!(err.contains("docker-manifest-digest"), "{err}");
    }
}
