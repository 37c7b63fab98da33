resource "google_cloud_run_v2_service" "api" {
  name     = "api"
  location = "us-central1"
  project  = "acme-prod"
  ingress  = "INGRESS_TRAFFIC_ALL"

  binary_authorization {
    use_default              = true
    breakglass_justification = "INC-7788 signer outage"
  }

  template {
    service_account = google_service_account.api.email
    containers {
      image = "us-docker.pkg.dev/acme-prod/apps/api:2.4.1"
      ports {
        container_port = 8080
      }
    }
  }
}

resource "google_cloud_run_v2_job" "migrate" {
  name     = "migrate"
  location = "us-central1"

  binary_authorization {
    use_default = true
  }

  template {
    template {
      containers {
        image = var.migrate_image
      }
    }
  }
}

resource "google_cloud_run_service" "legacy" {
  name     = "legacy"
  location = "europe-west1"

  metadata {
    annotations = {
      "run.googleapis.com/binary-authorization" = "default"
    }
  }

  template {
    spec {
      containers {
        image = "europe-docker.pkg.dev/acme-prod/apps/legacy@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
      }
    }
  }
}

resource "google_cloud_run_v2_service" "public" {
  name     = "public"
  location = "us-central1"

  template {
    containers {
      image = "${var.registry}/public:1.0"
    }
  }
}
