variable "migrate_image" {
  type    = string
  default = "us-docker.pkg.dev/acme-prod/jobs/migrate:latest"
}

variable "registry" {
  type    = string
  default = "us-docker.pkg.dev/acme-prod/apps"
}
