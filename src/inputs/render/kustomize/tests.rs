//! Unit tests of Kustomize root analysis and rendering.

use super::*;

#[test]
fn relative_paths_climb_to_the_common_ancestor() {
    assert_eq!(
        relative_path(Path::new("/tmp/w"), Path::new("/work/repo/overlay")),
        PathBuf::from("../../work/repo/overlay")
    );
    assert_eq!(
        relative_path(Path::new("/a"), Path::new("/a")),
        PathBuf::from(".")
    );
}

#[test]
fn marker_places_skip_comments_and_find_json_patch_paths() {
    let text = "# image-policy.k8s.io/break-glass: \"true\"\nlabels:\n- pairs:\n    image-policy.k8s.io/break-glass: \"true\"\n- op: add\n  path: /spec/template/metadata/labels/image-policy.k8s.io~1break-glass\ncommonAnnotations:\n  alpha.image-policy.k8s.io/break-glass: \"true\"\n";
    let places = marker_places(text);
    assert_eq!(
        places,
        vec![
            (4, 5, "image-policy.k8s.io/break-glass".to_string()),
            (6, 40, "image-policy.k8s.io/break-glass".to_string()),
            (8, 3, "alpha.image-policy.k8s.io/break-glass".to_string()),
        ]
    );
}

#[test]
fn klog_headers_are_dropped() {
    assert_eq!(
        strip_klog_header("E1203 12:27:36.025712   28845 run.go:72] \"command failed\" err=\"x\""),
        "\"command failed\" err=\"x\""
    );
    assert_eq!(strip_klog_header("Error: boom"), "Error: boom");
}

#[test]
fn origins_become_absolute() {
    let rendered = "metadata:\n  annotations:\n    config.kubernetes.io/origin: |\n      path: ../repo/base/deploy.yaml\n  name: web\n";
    let out = absolute_origins(rendered, Path::new("/tmp/w"));
    assert!(
        out.contains("      path: \"/tmp/repo/base/deploy.yaml\"\n"),
        "{out}"
    );
    assert!(out.ends_with("  name: web\n"));
}

#[test]
fn routes_follow_containers_by_name() {
    let rendered =
        "spec:\n  containers:\n  - name: side\n    image: a\n  - name: app\n    image: b\n";
    let origin = "spec:\n  containers:\n  - image: x\n    name: app\n";
    let r = yaml::parse(rendered, &Limits::default());
    let o = yaml::parse(origin, &Limits::default());
    let (Some(rr), Some(or)) = (r.documents[0].root, o.documents[0].root) else {
        panic!("no roots");
    };
    let target = Span {
        start: Pos {
            line: 6,
            column: 12,
        },
        end: Pos {
            line: 6,
            column: 13,
        },
    };
    let (route, key) = route_to(&r, rr, target).expect("route");
    assert!(!key);
    let (span, _) = follow(&o, or, &route, key).expect("followed");
    assert_eq!(
        span.start,
        Pos {
            line: 3,
            column: 12
        }
    );
}

#[test]
fn rendered_objects_are_traced_by_identity_or_marked_ambiguous() {
    let doc = |kind: &str, name: &str| (Some(kind.to_string()), Some(name.to_string()));
    let identities: Identities = [
        (
            PathBuf::from("/r/base/web.yaml"),
            vec![doc("Deployment", "web"), doc("Service", "web")],
        ),
        (
            PathBuf::from("/r/base/api.yaml"),
            vec![doc("Deployment", "api"), doc("Deployment", "web-api")],
        ),
        (
            PathBuf::from("/r/other/web.yaml"),
            vec![doc("Service", "web")],
        ),
    ]
    .into_iter()
    .collect();
    let origin = |kind: &str, name: &str| {
        identity_origin(&identities, Some(kind), Some(name))
            .map(|p| p.map(|p| p.to_string_lossy().into_owned()))
    };
    // Exact names win over names the rendered name only contains (`namePrefix`).
    assert_eq!(
        origin("Deployment", "web-api").ok().flatten().as_deref(),
        Some("/r/base/api.yaml")
    );
    assert_eq!(
        origin("Deployment", "dev-web").ok().flatten().as_deref(),
        Some("/r/base/web.yaml")
    );
    // The longest contained name: `dev-web-api-v2` comes from `web-api`, not `web`.
    assert_eq!(
        origin("Deployment", "dev-web-api-v2")
            .ok()
            .flatten()
            .as_deref(),
        Some("/r/base/api.yaml")
    );
    // A generated object (no file holds it) has no origin; two files holding the same
    // identity make kustomize's origin annotations necessary.
    assert!(matches!(origin("ConfigMap", "web-config-5gk2"), Ok(None)));
    assert!(origin("Service", "web").is_err());
}
