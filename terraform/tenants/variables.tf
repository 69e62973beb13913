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

variable "closure_grace_seconds" {
  description = "How long (seconds) after a tenant admin closes its tenant (DELETE /tenant) its data is erased; until then a platform admin may take the closure back. 0 erases at once. Default 7 days."
  type        = number
  default     = 604800

  validation {
    condition     = var.closure_grace_seconds >= 0 && var.closure_grace_seconds <= 7776000 && floor(var.closure_grace_seconds) == var.closure_grace_seconds
    error_message = "closure_grace_seconds must be a whole number from 0 to 7776000 (90 days)."
  }
}
