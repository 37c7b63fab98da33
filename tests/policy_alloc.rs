//! `Policy::evaluate` must not allocate beyond the decision it returns (issue 9: the scanner
//! targets ~100 MB/s). A counting global allocator (this test binary only) checks that the
//! number of allocations per call is small and does not grow with the policy's size.

use binauthz_lint::decision::PodContext;
use binauthz_lint::policy::load_policy_str;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarding the caller's layout to the system allocator unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn big_policy(patterns: usize, clusters: usize, mode: &str) -> String {
    let mut text =
        String::from("globalPolicyEvaluationMode: ENABLE\nadmissionWhitelistPatterns:\n");
    for i in 0..patterns {
        text.push_str(&format!("- namePattern: gcr.io/team-{i}/**\n"));
    }
    text.push_str(&format!(
        "defaultAdmissionRule: {{evaluationMode: {mode}, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}}\nclusterAdmissionRules:\n"
    ));
    for i in 0..clusters {
        text.push_str(&format!(
            "  us-east1-b.c{i}: {{evaluationMode: ALWAYS_DENY, enforcementMode: DRYRUN_AUDIT_LOG_ONLY}}\n"
        ));
    }
    text
}

/// Allocations made by one `evaluate` call, the returned decision dropped.
fn allocations(text: &str, cluster: Option<&str>, image: &str) -> usize {
    let policy = load_policy_str(text, "p.yaml").expect("valid").policy;
    let ctx = PodContext {
        cluster,
        namespace: "default",
        service_account: "default",
    };
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let decision = policy.evaluate(&ctx, image);
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    drop(decision);
    after - before
}

#[test]
fn evaluate_allocates_only_the_decision() {
    for (patterns, clusters) in [(1, 1), (200, 100)] {
        let allow = big_policy(patterns, clusters, "ALWAYS_ALLOW");
        let deny = big_policy(patterns, clusters, "ALWAYS_DENY");
        let last = format!("gcr.io/team-{}/app:1", patterns - 1);
        // Exempt: the pattern text and the source (file + label).
        assert!(allocations(&allow, None, &last) <= 3);
        assert!(allocations(&allow, None, "gke.gcr.io/x:1") <= 3);
        // Rule decisions: the rule label, the source, and for a denial the message.
        assert!(allocations(&allow, None, "nginx:1") <= 3);
        assert!(allocations(&deny, None, "nginx:1") <= 4);
        assert!(allocations(&deny, Some("us-east1-b.c0"), "nginx:1") <= 4);
    }
}
