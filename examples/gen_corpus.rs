//! Deterministic generator of a synthetic GitOps repository for benchmarks.
//!
//! `cargo run --release --example gen_corpus -- OUT_DIR [FILES]` (default 20,000 files,
//! about 100 MB): multi-document files with Deployments, StatefulSets, DaemonSets, CronJobs,
//! Jobs, Pods, Services, Ingresses and ConfigMaps (1% of them large), ~1% break-glass, a mix
//! of tag and digest references. Same arguments, same bytes.

use std::fmt::Write as _;
use std::path::PathBuf;

/// A tiny LCG: deterministic across platforms and versions, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn hex64(&mut self) -> String {
        let mut s = String::with_capacity(64);
        while s.len() < 64 {
            let _ = write!(s, "{:08x}", self.next() as u32);
        }
        s.truncate(64);
        s
    }
}

const REGISTRIES: &[&str] = &[
    "gcr.io/acme-prod",
    "us-docker.pkg.dev/acme/apps",
    "docker.io/library",
    "quay.io/acme",
    "ghcr.io/acme",
];

fn image(rng: &mut Rng, name: &str) -> String {
    let registry = REGISTRIES[rng.below(REGISTRIES.len() as u64) as usize];
    if rng.below(3) == 0 {
        format!("{registry}/{name}@sha256:{}", rng.hex64())
    } else {
        format!(
            "{registry}/{name}:{}.{}.{}",
            rng.below(5),
            rng.below(20),
            rng.below(50)
        )
    }
}

fn labels(out: &mut String, indent: &str, app: &str, breakglass: bool) {
    let _ = writeln!(out, "{indent}labels:");
    let _ = writeln!(out, "{indent}  app.kubernetes.io/name: {app}");
    let _ = writeln!(out, "{indent}  app.kubernetes.io/part-of: shop");
    let _ = writeln!(out, "{indent}  app.kubernetes.io/version: \"1.2.3\"");
    if breakglass {
        let _ = writeln!(out, "{indent}  image-policy.k8s.io/break-glass: \"true\"");
    }
}

fn pod_spec(out: &mut String, indent: &str, rng: &mut Rng, app: &str) {
    let _ = writeln!(out, "{indent}serviceAccountName: {app}");
    if rng.below(4) == 0 {
        let _ = writeln!(out, "{indent}initContainers:");
        let _ = writeln!(
            out,
            "{indent}- name: init\n{indent}  image: {}\n{indent}  command: [\"sh\", \"-c\", \"echo init\"]",
            image(rng, "busybox")
        );
    }
    let _ = writeln!(out, "{indent}containers:");
    let containers = 1 + rng.below(3);
    for c in 0..containers {
        let name = if c == 0 {
            app.to_string()
        } else {
            format!("sidecar-{c}")
        };
        let _ = writeln!(out, "{indent}- name: {name}");
        let _ = writeln!(out, "{indent}  image: {}", image(rng, &name));
        let _ = writeln!(out, "{indent}  imagePullPolicy: IfNotPresent");
        let _ = writeln!(
            out,
            "{indent}  ports:\n{indent}  - containerPort: {}\n{indent}    protocol: TCP",
            8000 + rng.below(1000)
        );
        let _ = writeln!(out, "{indent}  env:");
        for e in 0..(3 + rng.below(6)) {
            let _ = writeln!(
                out,
                "{indent}  - name: VAR_{e}\n{indent}    value: \"value-{}\"",
                rng.below(100_000)
            );
        }
        let _ = writeln!(
            out,
            "{indent}  resources:\n{indent}    requests: {{cpu: 100m, memory: 128Mi}}\n{indent}    limits: {{cpu: 500m, memory: 512Mi}}"
        );
        let _ = writeln!(
            out,
            "{indent}  readinessProbe:\n{indent}    httpGet: {{path: /healthz, port: 8080}}\n{indent}    initialDelaySeconds: 5\n{indent}    periodSeconds: 10"
        );
        let _ = writeln!(
            out,
            "{indent}  securityContext:\n{indent}    runAsNonRoot: true\n{indent}    readOnlyRootFilesystem: true\n{indent}    allowPrivilegeEscalation: false"
        );
    }
}

fn workload(out: &mut String, rng: &mut Rng, i: usize, breakglass: bool) {
    let app = format!("svc-{i}");
    let ns = ["prod", "staging", "dev", "batch"][rng.below(4) as usize];
    let (api, kind) = match rng.below(10) {
        0..=4 => ("apps/v1", "Deployment"),
        5 => ("apps/v1", "StatefulSet"),
        6 => ("apps/v1", "DaemonSet"),
        7 => ("batch/v1", "CronJob"),
        8 => ("batch/v1", "Job"),
        _ => ("v1", "Pod"),
    };
    let _ = writeln!(
        out,
        "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {app}\n  namespace: {ns}"
    );
    labels(out, "  ", &app, breakglass && kind == "Pod");
    match kind {
        "Pod" => {
            let _ = writeln!(out, "spec:");
            pod_spec(out, "  ", rng, &app);
        }
        "CronJob" => {
            let _ = writeln!(
                out,
                "spec:\n  schedule: \"*/15 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        metadata:"
            );
            labels(out, "          ", &app, breakglass);
            let _ = writeln!(out, "        spec:\n          restartPolicy: OnFailure");
            pod_spec(out, "          ", rng, &app);
        }
        _ => {
            let _ = writeln!(
                out,
                "spec:\n  replicas: {}\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {app}\n  template:\n    metadata:",
                1 + rng.below(5)
            );
            labels(out, "      ", &app, breakglass);
            let _ = writeln!(out, "    spec:");
            pod_spec(out, "      ", rng, &app);
        }
    }
}

fn service(out: &mut String, i: usize) {
    let _ = writeln!(
        out,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\nspec:\n  selector:\n    app.kubernetes.io/name: svc-{i}\n  ports:\n  - port: 80\n    targetPort: 8080"
    );
}

fn ingress(out: &mut String, i: usize) {
    let _ = writeln!(
        out,
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: svc-{i}\n  annotations:\n    kubernetes.io/ingress.class: gce\nspec:\n  rules:\n  - host: svc-{i}.example.com\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service: {{name: svc-{i}, port: {{number: 80}}}}"
    );
}

fn config_map(out: &mut String, rng: &mut Rng, i: usize, large: bool) {
    let _ = writeln!(
        out,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-{i}\ndata:"
    );
    let keys = if large { 2000 } else { 5 + rng.below(20) };
    for k in 0..keys {
        let _ = writeln!(
            out,
            "  key-{k}: \"setting value {} for key {k} with some padding text\"",
            rng.below(1_000_000)
        );
    }
    let _ = writeln!(
        out,
        "  app.properties: |\n    server.port=8080\n    feature.flag={}\n    # embedded manifest text is not a workload\n    kind: Pod",
        rng.below(2) == 0
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out_dir = PathBuf::from(args.next().unwrap_or_else(|| "bench-corpus".to_string()));
    let files: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let mut rng = Rng(0x5eed_b1a5);
    let mut total = 0usize;
    for i in 0..files {
        let dir = out_dir
            .join(format!("team-{:02}", i % 50))
            .join(format!("app-{:03}", (i / 50) % 400));
        std::fs::create_dir_all(&dir).expect("create folder");
        let mut text = String::with_capacity(8192);
        let breakglass = rng.below(100) == 0;
        workload(&mut text, &mut rng, i, breakglass);
        text.push_str("---\n");
        service(&mut text, i);
        if rng.below(3) == 0 {
            text.push_str("---\n");
            ingress(&mut text, i);
        }
        text.push_str("---\n");
        let large = rng.below(100) == 0;
        config_map(&mut text, &mut rng, i, large);
        total += text.len();
        std::fs::write(dir.join(format!("manifest-{i}.yaml")), text).expect("write");
    }
    eprintln!(
        "wrote {files} files, {:.1} MB, to {}",
        total as f64 / 1e6,
        out_dir.display()
    );
}
