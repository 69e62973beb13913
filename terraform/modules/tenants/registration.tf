variable "registration" {
  description = "Unfinished registrations: how long (seconds) one may stay unfinished before the sweep removes it and frees its slug and email (also how long its Idempotency-Key may repeat a finished one), and when the sweep runs (an EventBridge schedule expression)."
  type = object({
    expiry_seconds = optional(number, 86400)
    sweep_schedule = optional(string, "rate(15 minutes)")
  })
  default = {}
}

variable "offboarding" {
  description = "Offboarding: how long (seconds) after a tenant admin closes its tenant the erasure waits, while a platform admin may take the closure back (0: no grace); the longest (seconds) a request of the notes and users functions may run, their function timeout (an erasure begins that long plus one authority window after offboarding did, so no request admitted before can still write); and when the sweep that erases due tenants runs (an EventBridge schedule expression)."
  type = object({
    closure_grace_seconds   = optional(number, 604800)
    request_timeout_seconds = optional(number, 10)
    sweep_schedule          = optional(string, "rate(15 minutes)")
  })
  default = {}

  validation {
    condition     = var.offboarding.closure_grace_seconds >= 0 && var.offboarding.closure_grace_seconds <= 7776000
    error_message = "closure_grace_seconds must be between 0 and 7776000 (90 days)."
  }

  validation {
    condition     = var.offboarding.request_timeout_seconds >= 1 && var.offboarding.request_timeout_seconds <= 30
    error_message = "request_timeout_seconds must be between 1 and 30 (a function's timeout)."
  }
}
