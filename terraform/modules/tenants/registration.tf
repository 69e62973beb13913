variable "registration" {
  description = "Unfinished registrations: how long (seconds) one may stay unfinished before the sweep removes it and frees its slug and email (also how long its Idempotency-Key may repeat a finished one), and when the sweep runs (an EventBridge schedule expression)."
  type = object({
    expiry_seconds = optional(number, 86400)
    sweep_schedule = optional(string, "rate(15 minutes)")
  })
  default = {}
}
