variable "project_id" {
  description = "Project that holds the policy and the attestor."
  type        = string
  default     = "sec"
}

variable "enforcement_mode" {
  type    = string
  default = "ENFORCED_BLOCK_AND_AUDIT_LOG"
}
