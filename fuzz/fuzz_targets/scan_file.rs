//! Extraction, break-glass and evaluation of one file, with the built-in policy.
#![no_main]
use binauthz_lint::policy::Policy;
use binauthz_lint::scan::{ScanSettings, scan_text};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static POLICY: OnceLock<Policy> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let policy = POLICY.get_or_init(Policy::builtin_default);
        let _ = scan_text("fuzz.yaml", text, &ScanSettings::default(), policy);
    }
});
