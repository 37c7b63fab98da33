//! Attestor and occurrence parsers, then one evaluation with whatever parsed.
#![no_main]
use binauthz_lint::attest::{AttestationStore, AttestorSet, evaluate_image};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let attestors = AttestorSet::from_str(text, "fuzz-attestors.yaml").ok();
    let store = AttestationStore::from_str(text, "fuzz-attestations.yaml").ok();
    let names: Vec<String> = attestors
        .as_ref()
        .map(|set| set.names().map(str::to_string).collect())
        .unwrap_or_default();
    let image = "gcr.io/p/app@sha256:0000000000000000000000000000000000000000000000000000000000000000";
    let _ = evaluate_image(image, &names, attestors.as_ref(), store.as_ref());
});
