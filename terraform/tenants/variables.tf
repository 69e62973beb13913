variable "project" {
  description = "Project name; must match the platform root's."
  type        = string
  default     = "saas"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,15}$", var.project))
    error_message = "project must be 2-16 lowercase letters or digits, starting with a letter."
  }
}

variable "env" {
  description = "Environment name; must match the platform root's."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.env))
    error_message = "env must be 2-12 lowercase letters or digits, starting with a letter (local, dev, prod, ...)."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "package_path" {
  description = "Path of the tenants function zip, e.g. target/lambda/tenants/bootstrap.zip."
  type        = string

  validation {
    condition     = fileexists(var.package_path)
    error_message = "package_path must name an existing zip; build the tenants function first."
  }
}

variable "registration_expiry_seconds" {
  description = "How long (seconds) a registration may stay unfinished before the sweep removes it and frees its slug and email; also how long its Idempotency-Key may repeat a finished one. Default one day."
  type        = number
  default     = 86400

  validation {
    condition     = var.registration_expiry_seconds >= 10 && var.registration_expiry_seconds <= 604800 && floor(var.registration_expiry_seconds) == var.registration_expiry_seconds
    error_message = "registration_expiry_seconds must be a whole number from 10 to 604800 (7 days)."
  }
}

variable "registration_sweep_schedule" {
  description = "When the expiry sweep runs (an EventBridge schedule expression)."
  type        = string
  default     = "rate(15 minutes)"
}
