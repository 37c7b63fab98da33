//! Unit tests of `helm` (kept beside it so the module stays readable).

use super::*;

fn template(display: &str, text: &str) -> Option<TemplateFile> {
    Some(TemplateFile {
        display: display.to_string(),
        text: text.to_string(),
    })
}

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\n  labels:\n    {{- include \"web.labels\" . | nindent 4 }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n";

const STREAM: &str = "---\n# Source: web/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: rel-web\n  labels:\n    app: web\n    tier: front\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: \"nginx:1.25\"\n";

#[test]
fn literal_pieces_split_around_actions() {
    assert_eq!(
        literal_pieces("  image: \"{{ .Values.a }}:{{ .Values.b }}\""),
        ["image: \"", ":", "\""]
    );
    assert!(is_pure_action("    {{- include \"x\" . | nindent 4 }}"));
    assert!(prints_output("    {{- include \"x\" . | nindent 4 }}"));
    assert!(!prints_output("{{- if .Values.enabled }}"));
    assert!(!prints_output("{{- end }}"));
    assert!(fits(
        "image: \"nginx:1.25\"",
        "image: \"{{ .Values.a }}:{{ .Values.b }}\""
    ));
    assert!(!fits(
        "name: web",
        "image: \"{{ .Values.a }}:{{ .Values.b }}\""
    ));
    assert!(fits("name: web", "- name: web".trim_start_matches("- ")));
}

#[test]
fn rendered_lines_map_to_the_template_lines_that_made_them() {
    let map = StreamMap::build(STREAM, &|s| {
        (s == "web/templates/deploy.yaml")
            .then(|| template("charts/web/templates/deploy.yaml", DEPLOY))
            .flatten()
    });
    let line_of = |stream_line: usize| map.mapped[stream_line - 1].map(|m| m.line);
    assert_eq!(line_of(3), Some(1), "apiVersion");
    assert_eq!(line_of(6), Some(4), "name with an action");
    assert_eq!(line_of(8), Some(6), "include output → the include line");
    assert_eq!(line_of(9), Some(6));
    assert_eq!(line_of(15), Some(12), "image");
    assert!(map.mapped[14].is_some_and(|m| !m.exact));
    assert!(
        map.mapped[13].is_some_and(|m| m.exact),
        "`- name: web` is literal"
    );
}

#[test]
fn toyaml_output_stays_at_its_action_and_range_loops_wrap() {
    let template = [
        "spec:",
        "  selector:",
        "    app: web",
        "  labels:",
        "    {{- toYaml .Values.labels | nindent 4 }}",
        "  containers:",
        "  {{- range .Values.containers }}",
        "    - name: {{ .name }}",
        "      image: {{ .image }}",
        "  {{- end }}",
    ];
    let rendered = [
        "spec:",
        "  selector:",
        "    app: web",
        "  labels:",
        "    app: web",
        "    image-policy.k8s.io/break-glass: \"true\"",
        "  containers:",
        "    - name: a",
        "      image: a:1",
        "    - name: b",
        "      image: b:1",
    ];
    let lines: Vec<Option<u32>> = map_document(&rendered, &template)
        .into_iter()
        .map(|m| m.map(|m| m.line))
        .collect();
    assert_eq!(
        lines,
        [1, 2, 3, 4, 5, 5, 6, 8, 9, 8, 9].map(Some),
        "the label after `labels:` is the toYaml output, not the selector's `app: web`"
    );
}

#[test]
fn documents_are_counted_per_source() {
    let text = "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B\n---\n# Source: c/templates/a.yaml\nkind: A2\n";
    let map = StreamMap::build(text, &|_| None);
    assert_eq!(map.sources, ["c/templates/a.yaml", "c/templates/b.yaml"]);
    let at = |line: usize| (map.lines[line - 1].source, map.lines[line - 1].document);
    assert_eq!(at(3), (Some(0), 0));
    assert_eq!(at(6), (Some(1), 0));
    assert_eq!(at(9), (Some(0), 1));
    assert_eq!(at(1), (None, 0), "the separator belongs to no source");
}

#[test]
fn findings_move_to_the_template_or_name_it() {
    let policy = crate::policy::load_policy_str(
        "defaultAdmissionRule:\n  evaluationMode: ALWAYS_DENY\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n",
        "policy.yaml",
    )
    .expect("policy")
    .policy;
    let settings = ScanSettings::default();
    let resolve = |s: &str| {
        (s == "web/templates/deploy.yaml")
            .then(|| template("charts/web/templates/deploy.yaml", DEPLOY))
            .flatten()
    };
    let result = scan_stream(
        "<stdin>",
        STREAM,
        &settings,
        &policy,
        &resolve,
        Fallback::Stream,
    );
    let denied: Vec<&Finding> = result
        .findings
        .iter()
        .filter(|f| f.rule_id == "image-denied")
        .collect();
    assert_eq!(denied.len(), 1, "{:?}", result.findings);
    let location = &denied[0].location;
    assert_eq!(
        (location.file.as_str(), location.line, location.column),
        ("charts/web/templates/deploy.yaml", 12, 11)
    );
    assert_eq!(
        denied[0].snippet.as_deref(),
        Some("          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"")
    );
    assert!(
        denied[0].message.contains("nginx:1.25"),
        "{}",
        denied[0].message
    );
    assert_eq!(
        result.workloads[0].location.file,
        "charts/web/templates/deploy.yaml"
    );
    assert_eq!(result.workloads[0].location.line, 1);

    // Without the template on disk: the stream's line, and the template in the message.
    let result = scan_stream(
        "<stdin>",
        STREAM,
        &settings,
        &policy,
        &|_| None,
        Fallback::Stream,
    );
    let denied = result
        .findings
        .iter()
        .find(|f| f.rule_id == "image-denied")
        .expect("denied");
    assert_eq!(
        (denied.location.file.as_str(), denied.location.line),
        ("<stdin>", 15)
    );
    assert!(
        denied
            .message
            .ends_with(" (rendered by Helm from `web/templates/deploy.yaml`)"),
        "{}",
        denied.message
    );

    // A root's packaged subchart: at Chart.yaml, line 1.
    let result = scan_stream(
        "charts/web/Chart.yaml",
        STREAM,
        &settings,
        &policy,
        &|_| None,
        Fallback::File("charts/web/Chart.yaml"),
    );
    let denied = result
        .findings
        .iter()
        .find(|f| f.rule_id == "image-denied")
        .expect("denied");
    assert_eq!(
        (denied.location.file.as_str(), denied.location.line),
        ("charts/web/Chart.yaml", 1)
    );
}

#[test]
fn odd_streams_do_not_panic() {
    let policy = Policy::builtin_default();
    let settings = ScanSettings::default();
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          image: a\n";
    let streams = [
        "# Source: \n".to_string(),
        "# Source: x\r\n---\r\n# Source: x\r\nkind: Pod\r\n".to_string(),
        format!("{deploy}# Source: c/templates/a.yaml\n"),
        format!("---\n# Source: c/templates/a.yaml\n{deploy}---\n# Source: c/templates/a.yaml\n{deploy}"),
        "# Source: ../../etc/passwd\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\n".to_string(),
        "# Source: c/templates/a.yaml\n: [\n".to_string(),
    ];
    let templates = ["", "{{", "}}{{", "{{ x }}{{", "a: {{ b }} c {{ d", "\n\n\n"];
    for stream in &streams {
        for text in templates {
            let resolve = |s: &str| template(&format!("t/{s}"), text);
            let result = scan_stream(
                "<stdin>",
                stream,
                &settings,
                &policy,
                &resolve,
                Fallback::Stream,
            );
            for finding in &result.findings {
                assert!(finding.location.line >= 1 && finding.location.column >= 1);
                assert!(finding.location.end_line >= finding.location.line);
            }
        }
    }
}

#[test]
fn below_chart_never_leaves_the_chart() {
    assert_eq!(
        below_chart("web/templates/a.yaml"),
        Some("templates/a.yaml")
    );
    assert_eq!(below_chart("web/../../etc/passwd"), None);
    assert_eq!(below_chart("web"), None);
}
