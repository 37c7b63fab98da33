resource "google_binary_authorization_attestor" "build" {
  name        = "ecdsa-p256"
  project     = var.project_id
  description = "Signs with ECDSA_P256_SHA256"
  attestation_authority_note {
    note_reference = "projects/sec/notes/ecdsa-p256"
    public_keys {
      id = "ni:///sha-256;shGZVTKqBIjwWRhxcNCH1hI5KuvosgFKJUsirKy9sUk"
      pkix_public_key {
        public_key_pem      = <<-EOT
          -----BEGIN PUBLIC KEY-----
          MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwlHpoz6rnsdDchG4MZUzyitSXqMG
          V4uuwK0rCfveC7/SxraYzDJbw3nCFXBLkjeqEvkGiIwJT9GBI0D5hDQxRg==
          -----END PUBLIC KEY-----
        EOT
        signature_algorithm = "ECDSA_P256_SHA256"
      }
    }
  }
}

resource "google_binary_authorization_policy" "prod" {
  project                       = var.project_id
  description                   = "Production clusters"
  global_policy_evaluation_mode = "ENABLE"

  admission_whitelist_patterns {
    name_pattern = "gcr.io/google-samples/*"
  }
  admission_whitelist_patterns {
    name_pattern = "quay.io/prometheus/*"
  }
  admission_whitelist_patterns {
    name_pattern = "us-central1-docker.pkg.dev/online-boutique-ci/**"
  }

  default_admission_rule {
    evaluation_mode         = "REQUIRE_ATTESTATION"
    enforcement_mode        = var.enforcement_mode
    require_attestations_by = [google_binary_authorization_attestor.build.name]
  }

  cluster_admission_rules {
    cluster          = "us-central1.prod"
    evaluation_mode  = "ALWAYS_DENY"
    enforcement_mode = "DRYRUN_AUDIT_LOG_ONLY"
  }

  cluster_admission_rules {
    cluster          = "europe-west1.staging"
    evaluation_mode  = "ALWAYS_ALLOW"
    enforcement_mode = "ENFORCED_BLOCK_AND_AUDIT_LOG"
  }
}
