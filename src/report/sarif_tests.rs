//! Unit tests of `sarif` (kept beside it so the module stays readable).

use super::*;
use crate::report::{Related, WorkloadRef};
use std::path::Path;

fn options() -> SarifOptions {
    SarifOptions {
        paths: RepoPaths::new(Path::new("/repo/sub"), Path::new("/repo")),
        commit: None,
        include_suppressed: false,
    }
}

fn location(file: &str, line: u32, column: u32, end_column: u32) -> Location {
    Location {
        file: file.to_string(),
        line,
        column,
        document: 0,
        end_line: line,
        end_column,
    }
}

fn denied(line: u32) -> Finding {
    let mut f = Finding::new(
        "image-denied",
        Level::Error,
        "Image nginx denied".to_string(),
        location("apps/web.yaml", line, 16, 21),
    );
    f.workload = Some(WorkloadRef {
        kind: "Deployment".to_string(),
        name: "web".to_string(),
        namespace: "prod".to_string(),
        api_group: "apps".to_string(),
        route: "spec.template".to_string(),
        cluster: None,
        context: None,
        rendered_from: None,
        kind_label: None,
        justification: None,
        descriptor_context: None,
    });
    f.container = Some("web".to_string());
    f.image = Some("nginx".to_string());
    f.snippet = Some("        image: nginx".to_string());
    f.related.push(Related {
        message: "default admission rule".to_string(),
        location: location("../policy.yaml", 2, 1, 21),
    });
    f
}

fn render_value(report: &Report) -> Value {
    let mut out = Vec::new();
    render(report, &options(), &mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn result_shape() {
    let mut report = Report::new("policy.yaml");
    report.findings.push(denied(20));
    let log = render_value(&report);
    let run = &log["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert_eq!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        "file:///repo/"
    );
    assert_eq!(
        run["tool"]["driver"]["rules"].as_array().unwrap().len(),
        RULES.len()
    );
    let r = &run["results"][0];
    assert_eq!(r["ruleId"], "image-denied");
    assert_eq!(r["ruleIndex"], rules::index("image-denied").unwrap());
    assert_eq!(
        run["tool"]["driver"]["rules"][r["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "image-denied"
    );
    let phys = &r["locations"][0]["physicalLocation"];
    assert_eq!(phys["artifactLocation"]["uri"], "sub/apps/web.yaml");
    assert_eq!(phys["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(phys["region"]["startLine"], 20);
    assert_eq!(phys["region"]["startColumn"], 16);
    assert_eq!(phys["region"]["endColumn"], 21);
    assert_eq!(phys["region"]["snippet"]["text"], "nginx");
    assert_eq!(
        phys["contextRegion"]["snippet"]["text"],
        "        image: nginx"
    );
    let rel = &r["relatedLocations"][0];
    assert_eq!(rel["id"], 1);
    assert_eq!(
        rel["physicalLocation"]["artifactLocation"]["uri"],
        "policy.yaml"
    );
    assert_eq!(rel["message"]["text"], "default admission rule.");
    assert_eq!(
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "prod/Deployment/web"
    );
    assert_eq!(r["message"]["text"], "Image nginx denied.");
}

#[test]
fn fingerprints_ignore_lines_and_are_unique() {
    let paths = options().paths;
    let mut a = Report::new("p");
    a.findings.push(denied(20));
    let mut b = Report::new("p");
    b.findings.push(denied(31));
    assert_eq!(fingerprints(&a, &paths), fingerprints(&b, &paths));
    // Scanning from another directory of the same repository changes nothing.
    let mut c = Report::new("p");
    let mut moved = denied(20);
    moved.location.file = "sub/apps/web.yaml".to_string();
    c.findings.push(moved);
    let top = RepoPaths::new(Path::new("/repo"), Path::new("/repo"));
    assert_eq!(fingerprints(&a, &paths), fingerprints(&c, &top));
    // Identical findings still get distinct values.
    a.findings.push(denied(40));
    let prints = fingerprints(&a, &paths);
    assert_ne!(prints[0], prints[1]);
    assert!(prints[1].ends_with(":2"));
}

#[test]
fn stdin_and_outside_files() {
    let mut report = Report::new("p");
    report.findings.push(Finding::new(
        "manifest-invalid",
        Level::Error,
        "bad".to_string(),
        Location::file_start("<stdin>"),
    ));
    report.findings.push(Finding::new(
        "manifest-invalid",
        Level::Error,
        "bad".to_string(),
        Location::file_start("/etc/x y.yaml"),
    ));
    // A finding in the repository whose rule lives in a policy outside it.
    let mut outside_policy = denied(20);
    outside_policy.related[0].location = location("/tmp/policy.yaml", 6, 1, 2);
    report.findings.push(outside_policy);
    let log = render_value(&report);
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains("\"stdin\""), "no stdin URI: {text}");
    assert_eq!(
        text.matches("file://").count(),
        1,
        "only originalUriBaseIds is absolute: {text}"
    );
    // Only the finding in the repository is a result; its outside rule is in the message.
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert!(results[0].get("relatedLocations").is_none());
    assert_eq!(
        results[0]["message"]["text"],
        "Image nginx denied. default admission rule (/tmp/policy.yaml:6:1)."
    );
    let region = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 20);
    // The others are notifications without a physical location, placed in the message.
    let notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0]["message"]["text"], "<stdin>:1:1: bad.");
    assert_eq!(notes[1]["message"]["text"], "/etc/x y.yaml:1:1: bad.");
    assert_eq!(notes[1]["level"], "error");
    assert_eq!(notes[1]["associatedRule"]["id"], "manifest-invalid");
    assert_eq!(
        notes[1]["associatedRule"]["index"],
        rules::index("manifest-invalid").unwrap()
    );
    assert_eq!(notes[1]["properties"]["location"]["file"], "/etc/x y.yaml");
    assert!(notes[1].get("locations").is_none());
    assert!(
        notes[1]["properties"]["partialFingerprints"][FINGERPRINT_KEY].is_string(),
        "{notes:?}"
    );
}

#[test]
fn no_notifications_when_everything_is_in_the_repository() {
    let mut report = Report::new("p");
    report.findings.push(denied(20));
    let log = render_value(&report);
    assert!(
        log["runs"][0]["invocations"][0]
            .get("toolExecutionNotifications")
            .is_none()
    );
}
