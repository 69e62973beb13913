variable "project" {
  description = "Project name; must match the platform root's."
  type        = string
}

variable "env" {
  description = "Environment name; must match the platform root's."
  type        = string
}

variable "service" {
  description = "The service reading the parameters (its execution role is published per service)."
  type        = string

  validation {
    condition     = contains(["notes", "users", "tenants"], var.service)
    error_message = "service must be notes, users or tenants."
  }
}
