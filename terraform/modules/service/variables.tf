variable "platform" {
  description = "The platform's values (the platform-parameters module's output): naming, function settings, roles, the HTTP API."
  type = object({
    name_prefix                 = string
    architecture                = string
    log_retention_days          = number
    logs_kms_key_arn            = string
    deletion_protection         = bool
    execution_role_arn          = string
    tenant_role_arn             = string
    tenant_role_name            = string
    api_id                      = string
    api_execution_arn           = string
    authorizer_id               = string
    authority_freshness_seconds = number
    password_policy_json        = optional(string)
    user_pool_id                = optional(string)
    user_pool_arn               = optional(string)
    event_bus_name              = optional(string)
    event_bus_arn               = optional(string)
  })

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.platform.name_prefix))
    error_message = "platform.name_prefix must be 3-32 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "service" {
  description = "The service's name: the function is \"<name_prefix>-<service>\", matching the platform's execution role; its routes are the operations of services/<service>/openapi.json."
  type        = string
}

variable "description" {
  description = "Description of the function."
  type        = string
}

variable "package_path" {
  description = "Path of the function zip (a Rust binary named bootstrap)."
  type        = string
}

variable "function" {
  description = "Settings of the function: memory (MB), timeout (seconds), RUST_LOG."
  type = object({
    memory_size = optional(number, 256)
    timeout     = optional(number, 10)
    log_level   = optional(string, "info")
  })
  default = {}
}

variable "table" {
  description = "The service's tenant-data table \"<name_prefix>-<name>\" (its function gets <NAME>_TABLE): the TTL attribute if items expire, and the tenant role's statement on it (id, item actions without the dynamodb: prefix)."
  type = object({
    name             = string
    expiry_attribute = optional(string)
    statement_id     = string
    actions          = list(string)
  })
}

variable "environment" {
  description = "The function's own environment variables, beside the ones every service gets (tenant role, authority tables and freshness, log level)."
  type        = map(string)
  default     = {}
}

variable "execution_policy" {
  description = "What the service's execution role may do besides assuming the tenant role: an inline policy (name, JSON document) of what cannot be tenant-scoped, each statement commented with why. Null for none."
  type = object({
    name = string
    json = string
  })
  default = null
}

variable "publishes_events" {
  description = "Whether the service publishes lifecycle events: its function then gets the outbox table and the platform's bus (OUTBOX_TABLE, EVENT_BUS_NAME), and its execution role PutEvents on that bus only."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags for every resource of the module (provider default_tags still apply)."
  type        = map(string)
  default     = {}
}
