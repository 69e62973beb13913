variable "platform" {
  description = "The platform's values: the platform-parameters module's output (typed and checked by ../service)."
  type        = any
}

variable "package_path" {
  description = "Path of the function zip (a Rust binary named bootstrap)."
  type        = string
}

variable "function" {
  description = "Settings of the function (memory_size, timeout, log_level; see ../service)."
  type        = any
  default     = {}
}

variable "tags" {
  description = "Extra tags for every resource of the module (provider default_tags still apply)."
  type        = map(string)
  default     = {}
}

variable "registration" {
  description = "Unfinished registrations: how long (seconds) one may stay unfinished before the sweep removes it and frees its slug and email (also how long its Idempotency-Key may repeat a finished one), and when the sweep runs (an EventBridge schedule expression)."
  type = object({
    expiry_seconds = optional(number, 86400)
    sweep_schedule = optional(string, "rate(15 minutes)")
  })
  default = {}
}
