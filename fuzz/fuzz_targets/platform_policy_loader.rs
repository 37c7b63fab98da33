//! The platform-policy loader and validator, then evaluation of a few pods under the result
//! and the `evaluate` response built from them.
#![no_main]
use binauthz_lint::policy::platform::{self, EvalInputs, PodDescription};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(loaded) = platform::load_platform_policy_str(text, "fuzz-platform.yaml") {
            let images = ["nginx", "gcr.io/p/app:1", "us-docker.pkg.dev/p/r/app@sha256:0000000000000000000000000000000000000000000000000000000000000000"];
            let inputs = EvalInputs::default();
            for (ns, sa) in [("prod", "default"), ("prod", "api"), ("", "")] {
                let verdict = loaded.policy.evaluate_pod(ns, sa, &images, &inputs);
                let _ = platform::evaluate_response(&[PodDescription { name: "p", namespace: ns, service_account: sa, verdict: &verdict }]);
            }
            let _ = loaded.policy.evaluate_images(&images, &inputs);
        }
    }
});
