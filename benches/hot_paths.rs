//! Criterion micro-benchmarks of the hot paths: allowlist pattern matching, extraction of one
//! file, policy evaluation of one image, and report rendering.
//!
//! `cargo bench --bench hot_paths`

use binauthz_lint::decision::PodContext;
use binauthz_lint::policy::{self, Pattern, Policy};
use binauthz_lint::report;
use binauthz_lint::run;
use binauthz_lint::scan::{ScanSettings, scan_text};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const MANIFEST: &str = include_str!("../testdata/demo/apps/web.yaml");

const POLICY: &str = "admissionWhitelistPatterns:
- namePattern: gcr.io/acme-prod/envoy*
- namePattern: gcr.io/google-containers/*
- namePattern: k8s.gcr.io/**
- namePattern: docker.io/library/nginx:1.*
defaultAdmissionRule:
  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG
  evaluationMode: REQUIRE_ATTESTATION
  requireAttestationsBy: [projects/acme-sec/attestors/built-by-ci]
kubernetesNamespaceAdmissionRules:
  batch: {enforcementMode: DRYRUN_AUDIT_LOG_ONLY, evaluationMode: ALWAYS_DENY}
  dev: {enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG, evaluationMode: ALWAYS_ALLOW}
globalPolicyEvaluationMode: ENABLE
";

fn patterns(c: &mut Criterion) {
    let star = Pattern::compile("gcr.io/acme-prod/envoy*").expect("pattern");
    let double = Pattern::compile("k8s.gcr.io/**").expect("pattern");
    c.bench_function("pattern/star-match", |b| {
        b.iter(|| star.matches(black_box("gcr.io/acme-prod/envoy:1.30")))
    });
    c.bench_function("pattern/star-miss-slash", |b| {
        b.iter(|| star.matches(black_box("gcr.io/acme-prod/envoy/x:1")))
    });
    c.bench_function("pattern/double-star", |b| {
        b.iter(|| double.matches(black_box("k8s.gcr.io/a/b/c:1")))
    });
}

fn extraction(c: &mut Criterion) {
    let policy = Policy::builtin_default();
    let settings = ScanSettings::default();
    c.bench_function("scan_text/deployment", |b| {
        b.iter(|| scan_text("web.yaml", black_box(MANIFEST), &settings, &policy))
    });
}

fn evaluation(c: &mut Criterion) {
    let loaded = policy::load_policy_str(POLICY, "policy.yaml").expect("policy");
    let ctx = PodContext {
        cluster: None,
        namespace: "prod",
        service_account: "web",
    };
    c.bench_function("evaluate/allowlisted", |b| {
        b.iter(|| {
            loaded
                .policy
                .evaluate(&ctx, black_box("gcr.io/acme-prod/envoy:1.30"))
        })
    });
    c.bench_function("evaluate/denied-tag", |b| {
        b.iter(|| {
            loaded
                .policy
                .evaluate(&ctx, black_box("gcr.io/acme-prod/web:1.2"))
        })
    });
}

fn rendering(c: &mut Criterion) {
    let loaded = policy::load_policy_str(POLICY, "policy.yaml").expect("policy");
    let settings = ScanSettings::default();
    let results: Vec<_> = (0..200)
        .map(|i| {
            scan_text(
                &format!("apps/web-{i:03}.yaml"),
                MANIFEST,
                &settings,
                &loaded.policy,
            )
        })
        .collect();
    let rep = run::assemble(results, &loaded.policy);
    c.bench_function("render/json-200-workloads", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(1 << 20);
            report::json::render(black_box(&rep), &mut out).expect("render");
            out
        })
    });
}

criterion_group!(benches, patterns, extraction, evaluation, rendering);
criterion_main!(benches);
