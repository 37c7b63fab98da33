//! Attestation verification benchmarks (results: benches/RESULTS.md).
//!
//! - `verify_1000_p256_cold`: 1,000 images, each with its own ECDSA P-256 attestation
//!   (signed in-process, deterministic RFC 6979 signatures), evaluated against a freshly
//!   loaded store, so every signature is verified once: the cost a scan pays.
//! - `verify_1000_p256_cold_parallel`: the same on rayon's pool (2 workers here), as the
//!   scanner evaluates files in parallel.
//! - `evaluate_1000_warm`: the same 1,000 images again on a store whose cache is warm:
//!   the cost of an image that appears in many manifests.
//! - `load_1000_occurrences`: parsing and base64-decoding the 1,000 occurrences.
//! - `per_algorithm/*`: one cold verification per algorithm, over the committed
//!   openssl/gpg vectors in testdata/attest (RSA keys cannot be made here without an RNG
//!   dependency, so the 1,000-image run uses P-256, the common Cloud KMS choice).

use std::hint::black_box;
use std::path::Path;

use base64::Engine as _;
use binauthz_lint::attest::{
    AttestationOutcome, AttestationStore, AttestorSet, evaluate_image, evaluate_image_at,
};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

const N: usize = 1_000;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// DER SubjectPublicKeyInfo prefix for an uncompressed P-256 point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

struct Fixture {
    attestors: AttestorSet,
    occurrences_json: String,
    images: Vec<String>,
    required: Vec<String>,
}

fn payload(repository: &str, digest: &str) -> String {
    format!(
        "{{\n  \"critical\": {{\n    \"identity\": {{\n      \"docker-reference\": \"{repository}\"\n    }},\n    \"image\": {{\n      \"docker-manifest-digest\": \"{digest}\"\n    }},\n    \"type\": \"Google cloud binauthz container signature\"\n  }}\n}}\n"
    )
}

fn fixture() -> Fixture {
    let key = SigningKey::from_slice(&[7u8; 32]).expect("fixed scalar is a valid key");
    let mut der = P256_SPKI_PREFIX.to_vec();
    der.extend_from_slice(key.verifying_key().to_encoded_point(false).as_bytes());
    let body = B64.encode(&der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\\n{}\\n-----END PUBLIC KEY-----\\n",
        lines.join("\\n")
    );
    let attestor_json = format!(
        "{{\"name\": \"projects/bench/attestors/a\", \"userOwnedGrafeasNote\": {{\"noteReference\": \"projects/bench/notes/a\", \"publicKeys\": [{{\"id\": \"k\", \"pkixPublicKey\": {{\"publicKeyPem\": \"{pem}\", \"signatureAlgorithm\": \"ECDSA_P256_SHA256\"}}}}]}}}}"
    );
    let attestors = AttestorSet::from_str(&attestor_json, "bench-attestor.json").expect("loads");

    let mut images = Vec::with_capacity(N);
    let mut occurrences = Vec::with_capacity(N);
    for i in 0..N {
        let hex: String = Sha256::digest(i.to_le_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let digest = format!("sha256:{hex}");
        let body = payload("gcr.io/bench/app", &digest);
        let signature: Signature = key.sign(body.as_bytes());
        occurrences.push(format!(
            "{{\"kind\": \"ATTESTATION\", \"name\": \"projects/bench/occurrences/{i}\", \"noteName\": \"projects/bench/notes/a\", \"resourceUri\": \"gcr.io/bench/app@{digest}\", \"attestation\": {{\"serializedPayload\": \"{}\", \"signatures\": [{{\"publicKeyId\": \"k\", \"signature\": \"{}\"}}]}}}}",
            B64.encode(body.as_bytes()),
            B64.encode(signature.to_der().as_bytes())
        ));
        images.push(format!("gcr.io/bench/app@{digest}"));
    }
    Fixture {
        attestors,
        occurrences_json: format!("[\n{}\n]\n", occurrences.join(",\n")),
        images,
        required: vec!["projects/bench/attestors/a".to_string()],
    }
}

fn evaluate_all(fixture: &Fixture, store: &AttestationStore) -> usize {
    fixture
        .images
        .iter()
        .filter(|image| {
            evaluate_image(
                image,
                &fixture.required,
                Some(&fixture.attestors),
                Some(store),
            )
            .0 == AttestationOutcome::Attested
        })
        .count()
}

fn evaluate_all_parallel(fixture: &Fixture, store: &AttestationStore) -> usize {
    fixture
        .images
        .par_iter()
        .filter(|image| {
            evaluate_image(
                image,
                &fixture.required,
                Some(&fixture.attestors),
                Some(store),
            )
            .0 == AttestationOutcome::Attested
        })
        .count()
}

/// This thread's CPU time (user + system) in clock ticks of 10 ms, from Linux
/// `/proc/thread-self/stat`; None elsewhere.
fn thread_cpu_ticks() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

/// Wall-clock time is inflated when other work shares the 2 cores; CPU time much less so.
/// Prints both for the single-threaded cold run (CPU time averaged over the runs, because
/// a tick is 10 ms).
fn report_cpu_time(fixture: &Fixture, load: &dyn Fn() -> AttestationStore) {
    const RUNS: u32 = 10;
    let stores: Vec<AttestationStore> = (0..RUNS).map(|_| load()).collect();
    let Some(before) = thread_cpu_ticks() else {
        return;
    };
    let started = std::time::Instant::now();
    for store in &stores {
        assert_eq!(evaluate_all(fixture, store), N);
    }
    let wall = started.elapsed().as_secs_f64() * 1e3 / f64::from(RUNS);
    let Some(after) = thread_cpu_ticks() else {
        return;
    };
    let cpu = after.saturating_sub(before) as f64 * 10.0 / f64::from(RUNS);
    eprintln!(
        "verify_1000_p256_cold: mean over {RUNS} runs: {cpu:.0} ms thread CPU time, {wall:.0} ms wall"
    );
}

fn thousand(c: &mut Criterion) {
    let fixture = fixture();
    let load =
        || AttestationStore::from_str(&fixture.occurrences_json, "bench.json").expect("loads");
    // Sanity: every image verifies, so the benchmark measures real verifications.
    assert_eq!(evaluate_all(&fixture, &load()), N);
    report_cpu_time(&fixture, &load);

    let mut group = c.benchmark_group("attest");
    group.sample_size(10);
    group.bench_function("load_1000_occurrences", |b| b.iter(|| black_box(load())));
    group.bench_function("verify_1000_p256_cold", |b| {
        b.iter_batched(
            load,
            |store| black_box(evaluate_all(&fixture, &store)),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("verify_1000_p256_cold_parallel", |b| {
        b.iter_batched(
            load,
            |store| black_box(evaluate_all_parallel(&fixture, &store)),
            BatchSize::LargeInput,
        )
    });
    let warm = load();
    evaluate_all(&fixture, &warm);
    group.bench_function("evaluate_1000_warm", |b| {
        b.iter(|| black_box(evaluate_all(&fixture, &warm)))
    });
    group.finish();
}

fn per_algorithm(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/attest");
    let attestors = AttestorSet::load(&dir.join("attestors")).expect("vector attestors");
    let valid = std::fs::read_to_string(dir.join("attestations/valid.json")).expect("vectors");
    let hex: String = Sha256::digest(b"binauthz-lint test valid")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let image = format!("gcr.io/p/app@sha256:{hex}");
    let now = std::time::SystemTime::now();

    let mut group = c.benchmark_group("attest/per_algorithm");
    group.sample_size(20);
    for slug in [
        "ecdsa-p256",
        "ecdsa-p384",
        "ecdsa-p521",
        "rsa-pkcs1-2048",
        "rsa-pkcs1-4096-sha256",
        "rsa-pss-2048",
        "rsa-pss-4096-sha512",
        "pgp-rsa",
        "pgp-ed25519",
    ] {
        let required = vec![format!("projects/sec/attestors/{slug}")];
        // Only this attestor's occurrence, so the timed part is one verification.
        let store_text = {
            let all: serde_json::Value = serde_json::from_str(&valid).expect("json");
            let one: Vec<&serde_json::Value> = all
                .as_array()
                .expect("list")
                .iter()
                .filter(|o| o["noteName"] == format!("projects/sec/notes/{slug}").as_str())
                .collect();
            serde_json::to_string(&one).expect("json")
        };
        group.bench_function(slug, |b| {
            b.iter_batched(
                || AttestationStore::from_str(&store_text, "one.json").expect("loads"),
                |store| {
                    let (outcome, _) =
                        evaluate_image_at(&image, &required, Some(&attestors), Some(&store), now);
                    assert_eq!(outcome, AttestationOutcome::Attested);
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, thousand, per_algorithm);
criterion_main!(benches);
