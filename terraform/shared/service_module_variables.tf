# The notes, users and tenants modules link this file in as their variables.tf:
# the inputs every service module passes on to ../service.
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
