//! Snapshot and property tests of the report renderers (SARIF, GitHub, human) on the fixture
//! repository `testdata/report-fixture/`.
//!
//! The fixture is scanned for real, as the binary does it: `run::run` with
//! `testdata/policies/report-fixture.yaml` (allowlist `gcr.io/acme/allowed/*`, dry-run in
//! `staging`, enforced ALWAYS_DENY elsewhere), then the policy's usage notes as findings.

use binauthz_lint::discover;
use binauthz_lint::policy;
use binauthz_lint::report::concise::{self, ConciseOptions};
use binauthz_lint::report::github::{self, GithubOptions};
use binauthz_lint::report::human::{self, HumanOptions};
use binauthz_lint::report::paths::RepoPaths;
use binauthz_lint::report::sarif::{self, SarifOptions};
use binauthz_lint::report::{Finding, Location, Related, Report};
use binauthz_lint::rules::Level;
use binauthz_lint::run;
use binauthz_lint::scan::ScanSettings;
use serde_json::Value;
use std::path::{Path, PathBuf};

const POLICY_DISPLAY: &str = "../policies/report-fixture.yaml";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_dir() -> PathBuf {
    repo_root().join("testdata/report-fixture")
}

/// Scan the fixture as `cd testdata/report-fixture && binauthz-lint scan . --policy
/// ../policies/report-fixture.yaml` would.
fn fixture_report(jobs: usize) -> Report {
    let dir = fixture_dir();
    let policy_path = repo_root().join("testdata/policies/report-fixture.yaml");
    let policy_text = std::fs::read_to_string(&policy_path).unwrap();
    let loaded = policy::load_policy_str(&policy_text, POLICY_DISPLAY).unwrap();
    let candidates = discover::discover(std::slice::from_ref(&dir), &dir, jobs).unwrap();
    let settings = ScanSettings::default();
    let scopes = binauthz_lint::scope::Scopes::single(settings, &loaded.policy);
    let mut report = run::run(&candidates, None, &scopes, jobs);
    let mut diagnostics = loaded.diagnostics.clone();
    diagnostics.extend(run::lint_policy_usage(&report, &loaded.policy, |_| true));
    run::add_policy_findings(&mut report, &diagnostics, &loaded.source_text);
    // Normalise the tool version in snapshots.
    report.tool.version = "0.0.0-snapshot";
    report
}

/// Paths as if the repository were checked out at `/repo` and the scan ran in the fixture.
fn snapshot_paths() -> RepoPaths {
    RepoPaths::new(
        Path::new("/repo/testdata/report-fixture"),
        Path::new("/repo"),
    )
}

/// The real paths: the fixture inside this repository.
fn real_paths() -> RepoPaths {
    RepoPaths::new(&fixture_dir(), &repo_root())
}

fn sarif_text(report: &Report, paths: RepoPaths) -> String {
    let mut out = Vec::new();
    let options = SarifOptions {
        paths,
        commit: Some("0123456789ab".to_string()),
        include_suppressed: false,
    };
    sarif::render(report, &options, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn github_text(report: &Report, paths: RepoPaths) -> String {
    let mut out = Vec::new();
    github::render(report, &GithubOptions { paths }, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn summary_text(report: &Report, paths: RepoPaths) -> String {
    let mut out = Vec::new();
    github::step_summary(report, &GithubOptions { paths }, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn human_text(report: &Report) -> String {
    let mut out = Vec::new();
    human::render(report, HumanOptions::default(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn fixture_covers_every_case() {
    let report = fixture_report(2);
    let rules: Vec<&str> = report.findings.iter().map(|f| f.rule_id).collect();
    for rule in [
        "image-denied",
        "image-denied-dryrun",
        "breakglass-used",
        "breakglass-ineffective",
        "breakglass-deprecated-annotation",
        "manifest-invalid",
        "policy-unused-pattern",
    ] {
        assert!(rules.contains(&rule), "no {rule} finding in {rules:?}");
    }
}

#[test]
fn sarif_snapshot() {
    insta::assert_snapshot!(
        "fixture.sarif",
        sarif_text(&fixture_report(2), snapshot_paths())
    );
}

#[test]
fn github_snapshot() {
    let report = fixture_report(2);
    insta::assert_snapshot!("fixture.github", github_text(&report, snapshot_paths()));
    insta::assert_snapshot!(
        "fixture.step-summary",
        summary_text(&report, snapshot_paths())
    );
}

fn concise_text(report: &Report, verbose: bool) -> String {
    let mut out = Vec::new();
    concise::render(report, ConciseOptions { verbose }, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn concise_snapshot() {
    let report = fixture_report(2);
    let text = concise_text(&report, false);
    insta::assert_snapshot!("fixture.concise", text);
    // One line per finding, then the two summary lines.
    assert_eq!(text.lines().count(), report.findings.len() + 2);
}

/// `--verbose`: the skipped files with their reasons, before the summary.
#[test]
fn verbose_lists_skipped_files() {
    let mut report = fixture_report(2);
    report.skipped.push(binauthz_lint::report::Skipped {
        file: "charts/web/templates/deploy.yaml".to_string(),
        reason: "helm-template".to_string(),
    });
    report.summary.files += 1;
    report.finish();
    let text = concise_text(&report, true);
    assert!(
        text.contains("Skipped files:\n  charts/web/templates/deploy.yaml: helm-template\n\nSummary: 6 files (5 scanned, 1 skipped);"),
        "{text}"
    );
    assert!(!concise_text(&report, false).contains("Skipped files:"));
}

#[test]
fn human_snapshot() {
    insta::assert_snapshot!("fixture.human", human_text(&fixture_report(2)));
}

#[test]
fn jobs_do_not_change_a_byte() {
    let one = fixture_report(1);
    let many = fixture_report(4);
    assert_eq!(
        sarif_text(&one, snapshot_paths()),
        sarif_text(&many, snapshot_paths())
    );
    assert_eq!(
        github_text(&one, snapshot_paths()),
        github_text(&many, snapshot_paths())
    );
    assert_eq!(human_text(&one), human_text(&many));
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn artifact_locations(log: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for result in log["runs"][0]["results"].as_array().unwrap() {
        for key in ["locations", "relatedLocations"] {
            for loc in result[key].as_array().into_iter().flatten() {
                out.push(&loc["physicalLocation"]["artifactLocation"]);
            }
        }
    }
    out
}

#[test]
fn sarif_uris_name_files_under_the_repository_root() {
    let report = fixture_report(2);
    let log: Value = serde_json::from_str(&sarif_text(&report, real_paths())).unwrap();
    let root = repo_root();
    let artifacts = artifact_locations(&log);
    assert!(artifacts.len() > report.findings.len());
    for art in artifacts {
        assert_eq!(art["uriBaseId"], "%SRCROOT%", "{art}");
        let uri = art["uri"].as_str().unwrap();
        assert!(
            uri.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b)),
            "not a percent-encoded relative path: {uri}"
        );
        assert!(!uri.starts_with('/') && !uri.split('/').any(|s| s == ".."));
        let file = root.join(percent_decode(uri));
        assert!(
            file.is_file(),
            "{uri} names no file under {}",
            root.display()
        );
    }
    let base = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(base.starts_with("file:///") && base.ends_with('/'));
    // The non-ASCII, space and `%` path is encoded.
    let text = sarif_text(&report, real_paths());
    assert!(text.contains("\"testdata/report-fixture/team%20%C3%A4/50%25%20canary.yaml\""));
}

#[test]
fn image_denied_regions_start_on_the_image_line() {
    let report = fixture_report(2);
    let log: Value = serde_json::from_str(&sarif_text(&report, real_paths())).unwrap();
    let mut checked = 0;
    for result in log["runs"][0]["results"].as_array().unwrap() {
        if result["ruleId"] != "image-denied" {
            continue;
        }
        let image = result["properties"]["image"]["image"].as_str().unwrap();
        let phys = &result["locations"][0]["physicalLocation"];
        let uri = percent_decode(phys["artifactLocation"]["uri"].as_str().unwrap());
        let text = std::fs::read_to_string(repo_root().join(uri)).unwrap();
        let line = phys["region"]["startLine"].as_u64().unwrap() as usize;
        let line_text = text.lines().nth(line - 1).unwrap();
        assert!(
            line_text.contains(image),
            "line {line} is {line_text:?}, not {image}"
        );
        // The region is the image value itself (quotes included when quoted).
        let start = phys["region"]["startColumn"].as_u64().unwrap() as usize;
        let end = phys["region"]["endColumn"].as_u64().unwrap() as usize;
        let value: String = line_text
            .chars()
            .skip(start - 1)
            .take(end - start)
            .collect();
        assert_eq!(value.trim_matches(['"', '\'']), image);
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} image-denied results");
}

#[test]
fn fingerprints_are_unique_and_line_free() {
    let report = fixture_report(2);
    let log: Value = serde_json::from_str(&sarif_text(&report, real_paths())).unwrap();
    let prints: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["partialFingerprints"][sarif::FINGERPRINT_KEY]
                .as_str()
                .unwrap()
        })
        .collect();
    let mut unique = prints.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), prints.len(), "{prints:?}");

    // Moving every finding down ten lines changes no fingerprint.
    let mut moved = report.clone();
    for f in &mut moved.findings {
        f.location.line += 10;
        f.location.end_line += 10;
    }
    assert_eq!(
        sarif::fingerprints(&report, &real_paths()),
        sarif::fingerprints(&moved, &real_paths())
    );
}

/// A workflow command as the Actions runner parses it (`ActionCommand.TryParseV2`).
#[derive(Debug, PartialEq)]
struct Command {
    name: String,
    properties: Vec<(String, String)>,
    data: String,
}

fn unescape_property(value: &str) -> String {
    value
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

fn unescape_data(value: &str) -> String {
    value
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

fn parse_command(line: &str) -> Option<Command> {
    let rest = line.strip_prefix("::")?;
    let end = rest.find("::")?;
    let (head, data) = (&rest[..end], &rest[end + 2..]);
    let (name, props) = match head.split_once(' ') {
        Some((name, props)) => (name, props),
        None => (head, ""),
    };
    let mut properties = Vec::new();
    for prop in props.split(',').filter(|p| !p.is_empty()) {
        let (k, v) = prop.split_once('=')?;
        properties.push((k.to_string(), unescape_property(v)));
    }
    Some(Command {
        name: name.to_string(),
        properties,
        data: unescape_data(data),
    })
}

#[test]
fn github_annotations_parse_as_workflow_commands() {
    let report = fixture_report(2);
    let text = github_text(&report, real_paths());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), report.findings.len());
    // Errors first, then warnings, then notes, each in report order.
    let mut ordered: Vec<&Finding> = report.findings.iter().collect();
    ordered.sort_by_key(|f| std::cmp::Reverse(f.level));
    for (line, finding) in lines.iter().zip(ordered) {
        let command = parse_command(line).unwrap_or_else(|| panic!("not a command: {line}"));
        assert!(["error", "warning", "notice"].contains(&command.name.as_str()));
        let prop = |k: &str| {
            command
                .properties
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let file = prop("file").unwrap();
        assert!(repo_root().join(file).is_file(), "{file}");
        assert_eq!(prop("line").unwrap(), finding.location.line.to_string());
        assert!(command.data.starts_with(&finding.message));
        for (key, _) in &command.properties {
            assert!(
                ["file", "line", "endLine", "col", "endColumn", "title"].contains(&key.as_str()),
                "{key}"
            );
        }
    }
    let breakglass = lines.iter().filter(|l| l.contains("breakglass-")).count();
    assert!(breakglass >= 3);
}

#[test]
fn github_escaping_round_trips() {
    let mut report = Report::new("p");
    let mut finding = Finding::new(
        "breakglass-used",
        Level::Warning,
        "50% of a,b: c\r\nsecond line\n::error::injected".to_string(),
        Location {
            file: "odd, dir: 100%/x.yaml".to_string(),
            line: 4,
            column: 3,
            document: 0,
            end_line: 4,
            end_column: 9,
        },
    );
    finding.related.push(Related {
        message: "see: here, %".to_string(),
        location: Location::file_start("p.yaml"),
    });
    report.findings.push(finding);
    let paths = RepoPaths::new(Path::new("/repo"), Path::new("/repo"));
    let text = github_text(&report, paths);
    assert_eq!(
        text.lines().count(),
        1,
        "a newline escaped the command: {text}"
    );
    let command = parse_command(text.trim_end()).unwrap();
    assert_eq!(
        command,
        Command {
            name: "warning".to_string(),
            properties: vec![
                ("file".to_string(), "odd, dir: 100%/x.yaml".to_string()),
                ("line".to_string(), "4".to_string()),
                ("endLine".to_string(), "4".to_string()),
                ("col".to_string(), "3".to_string()),
                ("endColumn".to_string(), "9".to_string()),
                (
                    "title".to_string(),
                    "breakglass-used (binauthz-lint)".to_string()
                ),
            ],
            data:
                "50% of a,b: c\r\nsecond line\n::error::injected\nnote: see: here, % (p.yaml:1:1)"
                    .to_string(),
        }
    );
}
