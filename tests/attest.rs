//! Known-answer tests for `binauthz_lint::attest` over the vectors that
//! `testdata/attest/generate.sh` writes (real openssl and gpg signatures).
//!
//! Each row of `CASES` names an image, the required attestors, the expected outcome and,
//! per attestor, whether it verifies and a substring its detail must contain.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use binauthz_lint::attest::{
    AttestInputError, AttestationOutcome, AttestationStore, AttestorSet, evaluate_image,
    evaluate_image_at, image_digest,
};
use sha2::{Digest as _, Sha256};

use AttestationOutcome::{AttestationInvalid, AttestationMissing, Attested, NotByDigest};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/attest")
}

fn attestors() -> &'static AttestorSet {
    static SET: OnceLock<AttestorSet> = OnceLock::new();
    SET.get_or_init(|| AttestorSet::load(&testdata().join("attestors")).expect("attestors load"))
}

fn store() -> &'static AttestationStore {
    static STORE: OnceLock<AttestationStore> = OnceLock::new();
    STORE.get_or_init(|| {
        AttestationStore::load(&testdata().join("attestations")).expect("attestations load")
    })
}

/// The digest generate.sh derives for a case name.
fn d(name: &str) -> String {
    let hash = Sha256::digest(format!("binauthz-lint test {name}").as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn img(name: &str) -> String {
    format!("gcr.io/p/app@{}", d(name))
}

fn attestor(slug: &str) -> String {
    format!("projects/sec/attestors/{slug}")
}

/// Which inputs a case gets.
#[derive(Clone, Copy)]
enum Inputs {
    Both,
    NoAttestors,
    NoAttestations,
}

struct Case {
    name: &'static str,
    image: String,
    required: Vec<&'static str>,
    inputs: Inputs,
    outcome: AttestationOutcome,
    /// (verified, detail substring) per required attestor, in order.
    checks: Vec<(bool, String)>,
}

fn case(
    name: &'static str,
    image: String,
    required: &[&'static str],
    outcome: AttestationOutcome,
    checks: &[(bool, &str)],
) -> Case {
    Case {
        name,
        image,
        required: required.to_vec(),
        inputs: Inputs::Both,
        outcome,
        checks: checks.iter().map(|(v, s)| (*v, s.to_string())).collect(),
    }
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    // One valid attestation per algorithm and attestor shape, all for the digest "valid".
    for slug in [
        "ecdsa-p256",
        "ecdsa-p384",
        "ecdsa-p521",
        "rsa-pkcs1-2048",
        "rsa-pkcs1-3072",
        "rsa-pkcs1-4096-sha256",
        "rsa-pkcs1-4096-sha512",
        "rsa-pss-2048",
        "rsa-pss-3072",
        "rsa-pss-4096-sha256",
        "rsa-pss-4096-sha512",
        "pgp-rsa",
        "pgp-ed25519",
        "pgp-subkey",
        "legacy-drydock",
    ] {
        let mut c = case(
            "valid",
            img("valid"),
            &[slug],
            Attested,
            &[(true, "verified by key ")],
        );
        c.checks[0].1 = format!("(occurrence projects/sec/occurrences/valid-{slug})");
        cases.push(c);
    }
    cases.extend([
        case(
            "pkix key without id gets the ni:/// id",
            img("valid"),
            &["pkix-noid"],
            Attested,
            &[(true, "verified by key ni:///sha-256;")],
        ),
        case(
            "three signatures, only the last verifies",
            img("multi-sig"),
            &["multi-key"],
            Attested,
            &[(true, "verified by key multi-ec")],
        ),
        case(
            "PGP RSA-1024 refused",
            img("valid"),
            &["pgp-rsa1024"],
            AttestationInvalid,
            &[(false, "is RSA-1024; RSA keys under 2048 bits are refused")],
        ),
        case(
            "expired PGP key",
            img("valid"),
            &["pgp-expired"],
            AttestationInvalid,
            &[(false, "expired on 2020-12-31 (an expired key does not verify)")],
        ),
        case(
            "revoked PGP key",
            img("valid"),
            &["pgp-revoked"],
            AttestationInvalid,
            &[(false, "is revoked")],
        ),
        case(
            "attestor without keys",
            img("valid"),
            &["no-keys"],
            AttestationInvalid,
            &[(false, "attestor has no public keys")],
        ),
        case(
            "P-256 key declared as RSA-PSS",
            img("valid"),
            &["alg-mismatch"],
            AttestationInvalid,
            &[(
                false,
                "key alg-mismatch-key: key is an ECDSA P-256 key, but the attestor declares RSA_PSS_2048_SHA256",
            )],
        ),
        case(
            "RSA-2048 key declared as 4096",
            img("valid"),
            &["rsa-size-mismatch"],
            AttestationInvalid,
            &[(
                false,
                "key is an RSA-2048 key, but the attestor declares RSA_SIGN_PKCS1_4096_SHA256",
            )],
        ),
        case(
            "ML-DSA is not implemented",
            img("valid"),
            &["ml-dsa"],
            AttestationInvalid,
            &[(false, "unsupported signature algorithm ML_DSA_65")],
        ),
        case(
            "tampered payload",
            img("tampered"),
            &["ecdsa-p256"],
            AttestationInvalid,
            &[(false, "signature does not verify under key ni:///sha-256;")],
        ),
        case(
            "signature by an untrusted key claiming a trusted key id",
            img("wrong-key"),
            &["ecdsa-p256"],
            AttestationInvalid,
            &[(false, "signature does not verify under key ni:///sha-256;")],
        ),
        case(
            "key id not of the attestor",
            img("unknown-key-id"),
            &["ecdsa-p256"],
            AttestationInvalid,
            &[(
                false,
                "key id ni:///sha-256;not-a-key-of-this-attestor is not a key of this attestor",
            )],
        ),
        case(
            "payload names another digest",
            img("other-digest"),
            &["ecdsa-p256"],
            AttestationInvalid,
            &[(false, "")],
        ),
        case(
            "two attestors, one attestation missing",
            img("two-attestors"),
            &["ecdsa-p256", "ecdsa-p384"],
            AttestationMissing,
            &[(true, "verified by key"), (false, "")],
        ),
        case(
            "payload is not JSON",
            img("not-json"),
            &["ecdsa-p256"],
            AttestationInvalid,
            &[(
                false,
                "payload is not simple-signing JSON: expected value at line 1 column 1 (Signature verified, but unexpected message was signed)",
            )],
        ),
        case(
            "URL-safe unpadded base64",
            img("url-safe"),
            &["rsa-pss-2048"],
            Attested,
            &[(true, "verified by key")],
        ),
        case(
            "resourceUri with https://",
            img("https-uri"),
            &["ecdsa-p256"],
            Attested,
            &[(true, "verified by key")],
        ),
        case(
            "attested in another registry (digest-only match)",
            format!("gcr.io/mirror/app@{}", d("other-registry")),
            &["ecdsa-p256"],
            Attested,
            &[(true, "verified by key")],
        ),
        case(
            "fixed-size r||s ECDSA P-521 signature",
            img("ecdsa-raw"),
            &["ecdsa-p521"],
            Attested,
            &[(true, "verified by key //cloudkms.googleapis.com/")],
        ),
        case(
            "one bad and one good occurrence",
            img("mixed"),
            &["ecdsa-p256"],
            Attested,
            &[(true, "(occurrence projects/sec/occurrences/mixed-good)")],
        ),
        case(
            "PGP SHA-1 signature refused",
            img("pgp-sha1"),
            &["pgp-rsa"],
            AttestationInvalid,
            &[(false, "PGP signature uses hash SHA-1, which is refused")],
        ),
        case(
            "PGP signature by another key",
            img("pgp-wrong-key"),
            &["pgp-rsa"],
            AttestationInvalid,
            &[(false, "signature does not verify under key ")],
        ),
        case(
            "PGP detached signature over serializedPayload",
            img("pgp-detached"),
            &["pgp-ed25519"],
            Attested,
            &[(true, "verified by key ")],
        ),
        case(
            "PGP key id from the attestor file is replaced by the fingerprint",
            img("pgp-declared-id"),
            &["pgp-ed25519"],
            AttestationInvalid,
            &[(
                false,
                "key id ignored-by-the-server is not a key of this attestor (the server replaces a PGP key's id by its fingerprint",
            )],
        ),
        case(
            "legacy pgpSignedAttestation",
            img("legacy-pgp"),
            &["pgp-rsa"],
            Attested,
            &[(true, "(occurrence projects/sec/occurrences/legacy-pgp)")],
        ),
        case(
            "legacy genericSignedAttestation",
            img("legacy-generic"),
            &["ecdsa-p256"],
            Attested,
            &[(true, "(occurrence projects/sec/occurrences/legacy-generic)")],
        ),
        case(
            "single occurrence object in its own file, RSA PKCS#1 4096 SHA-512",
            img("single-file"),
            &["rsa-pkcs1-4096-sha512"],
            Attested,
            &[(true, "verified by key")],
        ),
        case(
            "tag only",
            "gcr.io/p/app:1.0".into(),
            &["ecdsa-p256", "ecdsa-p384"],
            NotByDigest,
            &[
                (false, "Expected digest with sha256 scheme, but got tag or malformed digest"),
                (false, "Expected digest with sha256 scheme, but got tag or malformed digest"),
            ],
        ),
        case(
            "upper-case digest hex",
            format!("gcr.io/p/app@{}", d("valid").to_uppercase().replace("SHA256", "sha256")),
            &["ecdsa-p256"],
            NotByDigest,
            &[(false, "Expected digest with sha256 scheme")],
        ),
        case(
            "short digest",
            format!("gcr.io/p/app@{}", &d("valid")[..40]),
            &["ecdsa-p256"],
            NotByDigest,
            &[(false, "Expected digest with sha256 scheme")],
        ),
        case(
            "sha512 digest",
            format!("gcr.io/p/app@sha512:{}", "ab".repeat(64)),
            &["ecdsa-p256"],
            NotByDigest,
            &[(false, "Expected digest with sha256 scheme")],
        ),
        case(
            "tag and digest (A11)",
            format!("gcr.io/p/app:1.0@{}", d("valid")),
            &["ecdsa-p256"],
            Attested,
            &[(true, "verified by key")],
        ),
        case(
            "no attestation at all",
            img("unattested"),
            &["ecdsa-p256"],
            AttestationMissing,
            &[(false, "")],
        ),
        case(
            "attestor not supplied",
            img("valid"),
            &["nope"],
            AttestationMissing,
            &[(false, "attestor definition not supplied (pass it with --attestors)")],
        ),
        case(
            "invalid outranks missing",
            img("tampered"),
            &["ecdsa-p384", "ecdsa-p256"],
            AttestationInvalid,
            &[(false, "no attestation occurrence"), (false, "does not verify")],
        ),
        case(
            "occurrences of other notes are mentioned",
            img("tampered"),
            &["pgp-rsa"],
            AttestationMissing,
            &[(false, "(1 occurrence(s) of other notes exist for this digest)")],
        ),
    ]);
    // Details that embed digests.
    for c in cases.iter_mut() {
        match c.name {
            "payload names another digest" => {
                c.checks[0].1 = format!(
                    "payload names digest {}, image is {}",
                    d("valid"),
                    d("other-digest")
                );
            }
            "two attestors, one attestation missing" => {
                c.checks[1].1 = format!(
                    "no attestation occurrence of note projects/sec/notes/ecdsa-p384 for {}",
                    d("two-attestors")
                );
            }
            "no attestation at all" => {
                c.checks[0].1 = format!(
                    "no attestation occurrence of note projects/sec/notes/ecdsa-p256 for {}",
                    d("unattested")
                );
            }
            _ => {}
        }
    }
    let mut no_attestors = case(
        "no --attestors",
        img("valid"),
        &["ecdsa-p256"],
        AttestationMissing,
        &[(
            false,
            "attestor definition not supplied (pass it with --attestors)",
        )],
    );
    no_attestors.inputs = Inputs::NoAttestors;
    let mut no_store = case(
        "no --attestations",
        img("valid"),
        &["ecdsa-p256"],
        AttestationMissing,
        &[(
            false,
            "no attestation occurrences supplied (pass them with --attestations)",
        )],
    );
    no_store.inputs = Inputs::NoAttestations;
    cases.push(no_attestors);
    cases.push(no_store);
    cases
}

#[test]
fn table() {
    let mut failures = Vec::new();
    for c in cases() {
        let required: Vec<String> = c.required.iter().map(|s| attestor(s)).collect();
        let (set, store) = match c.inputs {
            Inputs::Both => (Some(attestors()), Some(store())),
            Inputs::NoAttestors => (None, Some(store())),
            Inputs::NoAttestations => (Some(attestors()), None),
        };
        let (outcome, checks) = evaluate_image(&c.image, &required, set, store);
        let label = format!("{} [{}]", c.name, c.required.join(","));
        if outcome != c.outcome {
            failures.push(format!(
                "{label}: outcome {outcome:?}, expected {:?}; checks {checks:#?}",
                c.outcome
            ));
            continue;
        }
        if checks.len() != c.checks.len() {
            failures.push(format!("{label}: {} checks", checks.len()));
            continue;
        }
        for ((check, (verified, substring)), name) in checks.iter().zip(&c.checks).zip(&required) {
            if &check.attestor != name
                || check.verified != *verified
                || !check.detail.contains(substring.as_str())
            {
                failures.push(format!(
                    "{label}: {check:?}, expected verified={verified} and detail containing {substring:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn vectors_load_completely() {
    let names: Vec<&str> = attestors().names().collect();
    assert_eq!(names.len(), 24, "{names:?}");
    assert!(names.windows(2).all(|w| w[0] < w[1]), "names are sorted");
    // 24 valid + 16 cases.yaml + 2 legacy + 1 single.
    assert_eq!(store().len(), 43);
    let noid = attestors()
        .get("projects/sec/attestors/pkix-noid")
        .expect("pkix-noid");
    assert!(noid.keys()[0].id().starts_with("ni:///sha-256;"));
    assert_eq!(noid.keys()[0].kind(), "pkix");
    let pgp = attestors()
        .get("projects/sec/attestors/pgp-ed25519")
        .expect("pgp-ed25519");
    let id = pgp.keys()[0].id();
    assert_eq!(id.len(), 40);
    assert!(
        id.chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    );
}

#[test]
fn expired_key_verified_before_expiry() {
    // 2020-06-15: the key (valid 2020-01-01 .. 2020-12-31) had not expired yet.
    let then = SystemTime::UNIX_EPOCH + Duration::from_secs(1_592_179_200);
    let (outcome, checks) = evaluate_image_at(
        &img("valid"),
        &[attestor("pgp-expired")],
        Some(attestors()),
        Some(store()),
        then,
    );
    assert_eq!(outcome, Attested, "{checks:?}");
}

#[test]
fn parallel_evaluation_is_consistent() {
    let required = vec![attestor("ecdsa-p256"), attestor("rsa-pss-3072")];
    let image = img("valid");
    let expected = evaluate_image(&image, &required, Some(attestors()), Some(store()));
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| evaluate_image(&image, &required, Some(attestors()), Some(store())))
            })
            .collect();
        for handle in handles {
            assert_eq!(handle.join().expect("thread"), expected);
        }
    });
    assert_eq!(expected.0, Attested);
}

#[test]
fn outcome_strings() {
    assert_eq!(Attested.as_str(), "attested");
    assert_eq!(AttestationMissing.as_str(), "attestation-missing");
    assert_eq!(AttestationInvalid.as_str(), "attestation-invalid");
    assert_eq!(NotByDigest.as_str(), "not-by-digest");
    let check = binauthz_lint::attest::AttestorCheck {
        attestor: "a".into(),
        verified: true,
        detail: "d".into(),
    };
    assert_eq!(
        serde_json::to_string(&check).expect("json"),
        r#"{"attestor":"a","verified":true,"detail":"d"}"#
    );
    let digest = d("valid");
    assert_eq!(image_digest(&img("valid")), Some(digest.as_str()));
}

// ---------------------------------------------------------------------------------------
// Input errors: each must name the file and the position of the offending value.

fn attestor_error(text: &str) -> AttestInputError {
    AttestorSet::from_str(text, "in.yaml").expect_err("must be refused")
}

fn store_error(text: &str) -> AttestInputError {
    AttestationStore::from_str(text, "in.yaml").expect_err("must be refused")
}

#[test]
fn input_errors_are_located() {
    let cases: Vec<(AttestInputError, u32, u32, &str)> = vec![
        (
            attestor_error(
                "{\n  \"name\": \"projects/p/attestors/a\",\n  \"userOwnedGrafeasNote\": {\n    \"noteReference\" \"x\"\n  }\n}\n",
            ),
            4,
            21,
            "invalid JSON: expected `:`",
        ),
        (
            attestor_error(
                "description: no name\nuserOwnedGrafeasNote:\n  noteReference: projects/p/notes/n\n",
            ),
            1,
            1,
            "attestor: missing `name`",
        ),
        (
            attestor_error(
                "- name: projects/p/attestors/a\n  userOwnedGrafeasNote:\n    noteReference: projects/p/notes/n\n- name: my-attestor\n",
            ),
            4,
            9,
            "is not a full resource name",
        ),
        (
            attestor_error("name: projects/p/attestors/a\n"),
            1,
            1,
            "missing `userOwnedGrafeasNote`",
        ),
        (
            attestor_error(
                "name: projects/p/attestors/a\nuserOwnedGrafeasNote:\n  noteReference: projects/p/notes/n\n  publicKeys:\n  - id: k\n    pkixPublicKey:\n      publicKeyPem: not a pem\n      signatureAlgorithm: ECDSA_P256_SHA256\n",
            ),
            7,
            21,
            "publicKeyPem has no -----BEGIN line",
        ),
        (
            attestor_error(
                "name: projects/p/attestors/a\nuserOwnedGrafeasNote:\n  noteReference: projects/p/notes/n\n  publicKeys:\n  - id: k\n",
            ),
            5,
            5,
            "neither `pkixPublicKey` nor `asciiArmoredPgpPublicKey`",
        ),
        (
            attestor_error(
                "name: projects/p/attestors/a\nuserOwnedGrafeasNote:\n  noteReference: projects/p/notes/n\n  publicKeys:\n  - asciiArmoredPgpPublicKey: garbage\n",
            ),
            5,
            31,
            "is not an OpenPGP public key",
        ),
        (
            attestor_error("name: projects/p/attestors/a\nuserOwnedGrafeasNote: [1]\n"),
            2,
            23,
            "`userOwnedGrafeasNote` must be a mapping, found a list",
        ),
        (
            attestor_error(
                "---\nname: projects/p/attestors/a\nuserOwnedGrafeasNote:\n  noteReference: n\n---\nname: projects/p/attestors/a\nuserOwnedGrafeasNote:\n  noteReference: n\n",
            ),
            6,
            1,
            "attestor projects/p/attestors/a is defined twice (first at in.yaml:2)",
        ),
        (attestor_error("name: [unclosed\n"), 2, 1, "invalid YAML"),
        (
            store_error(
                "- kind: ATTESTATION\n  noteName: projects/p/notes/n\n  resourceUri: gcr.io/p/a@sha256:00\n  attestation:\n    serializedPayload: 'not base64!'\n",
            ),
            5,
            24,
            "`serializedPayload` is not base64",
        ),
        (
            store_error(
                "- kind: ATTESTATION\n  name: projects/p/occurrences/o\n  resourceUri: gcr.io/p/a@sha256:00\n  attestation: {}\n",
            ),
            1,
            3,
            "occurrence projects/p/occurrences/o: missing `noteName`",
        ),
        (
            store_error(
                "[{\"kind\": \"ATTESTATION\", \"noteName\": \"n\", \"resourceUri\": \"u\"}]",
            ),
            1,
            2,
            "missing `attestation`",
        ),
        (
            store_error(
                "kind: ATTESTATION\nnoteName: n\nresourceUri: u\nattestation:\n  signatures:\n  - publicKeyId: k\n    signature: '%%%'\n",
            ),
            7,
            16,
            "`signature` is not base64",
        ),
        (
            store_error("- 1\n"),
            1,
            3,
            "expected an occurrence object, found a scalar",
        ),
    ];
    let mut failures = Vec::new();
    for (i, (err, line, column, message)) in cases.into_iter().enumerate() {
        if err.file != "in.yaml"
            || err.line != line
            || err.column != column
            || !err.message.contains(message)
        {
            failures.push(format!(
                "case {i}: got {err}, expected in.yaml:{line}:{column}: …{message}…"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lenient_where_formats_grow() {
    // Unknown keys, a REST list page, other occurrence kinds, empty documents.
    let store = AttestationStore::from_str(
        "{\"occurrences\": [\n  {\"kind\": \"VULNERABILITY\", \"name\": \"v\"},\n  {\"kind\": \"ATTESTATION\", \"noteName\": \"n\", \"resourceUri\": \"gcr.io/x@sha256:0000000000000000000000000000000000000000000000000000000000000000\", \"futureField\": {\"a\": 1}, \"attestation\": {\"serializedPayload\": \"e30=\", \"signatures\": []}}\n], \"nextPageToken\": \"\"}",
        "page.json",
    )
    .expect("loads");
    assert_eq!(store.len(), 1);
    assert_eq!(store.digest_count(), 1);
    let empty = AttestationStore::from_str("---\n---\n", "empty.yaml").expect("loads");
    assert!(empty.is_empty());
    let set = AttestorSet::from_str(
        "name: projects/p/attestors/a\nnewTopLevel: 1\nuserOwnedGrafeasNote:\n  noteReference: projects/p/notes/n\n  somethingNew: [1, 2]\n",
        "a.yaml",
    )
    .expect("loads");
    assert_eq!(set.names().collect::<Vec<_>>(), ["projects/p/attestors/a"]);
    assert!(
        set.get("projects/p/attestors/a")
            .is_some_and(|a| a.keys().is_empty())
    );
}

#[test]
fn unreadable_paths_are_input_errors() {
    let err = AttestorSet::load(&testdata().join("does-not-exist")).expect_err("missing");
    assert!(err.file.ends_with("does-not-exist"));
    assert_eq!((err.line, err.column), (0, 0));
    assert!(err.message.starts_with("cannot read"), "{err}");
    // A single file loads on its own.
    let one = AttestorSet::load(&testdata().join("attestors/ecdsa-p256.json")).expect("file");
    assert_eq!(one.len(), 1);
}

#[test]
fn url_safe_vector_really_is_url_safe_and_unpadded() {
    let text = std::fs::read_to_string(testdata().join("attestations/cases.yaml")).expect("read");
    let doc = text
        .split("---\n")
        .find(|d| d.contains("name: projects/sec/occurrences/url-safe"))
        .expect("url-safe document");
    let encoded: Vec<&str> = doc
        .lines()
        .filter_map(|l| {
            let l = l.trim_start().trim_start_matches("- ");
            l.strip_prefix("serializedPayload: ")
                .or_else(|| l.strip_prefix("signature: "))
        })
        .collect();
    assert_eq!(encoded.len(), 2, "{doc}");
    assert!(
        encoded
            .iter()
            .all(|e| !e.contains('=') && !e.contains('+') && !e.contains('/'))
    );
    assert!(encoded.iter().any(|e| e.contains('-') || e.contains('_')));
    // The payload's length is not a multiple of 3, so dropping padding matters.
    assert_ne!(encoded[0].len() % 4, 0);
}
