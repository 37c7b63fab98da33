//! The policy loader and validator, then evaluation of a few images under the result.
#![no_main]
use binauthz_lint::decision::PodContext;
use binauthz_lint::policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(loaded) = policy::load_policy_str(text, "fuzz-policy.yaml") {
            let ctx = PodContext { cluster: Some("us-central1-a.prod"), namespace: "prod", service_account: "default" };
            for image in ["nginx", "gcr.io/p/app:1", "gcr.io/p/app@sha256:0000000000000000000000000000000000000000000000000000000000000000"] {
                let _ = loaded.policy.evaluate(&ctx, image);
            }
            let _ = loaded.policy.lint_usage(&["nginx"], &[ctx], 0);
        }
    }
});
