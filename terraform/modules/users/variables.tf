variable "name_prefix" {
  description = "Prefix of every resource name, conventionally \"<project>-<env>\"; the function is \"<name_prefix>-users\", matching the platform's execution role."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "package_path" {
  description = "Path of the users function zip (a Rust binary named bootstrap)."
  type        = string
}

variable "architecture" {
  description = "Instruction set of the users binary: arm64 on AWS, the host's (x86_64) locally."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory of the users function in MB."
  type        = number
  default     = 256
}

variable "timeout" {
  description = "Timeout of the users function in seconds."
  type        = number
  default     = 10
}

variable "log_level" {
  description = "RUST_LOG of the users function."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Retention of the users function's log group."
  type        = number
  default     = 30
}

variable "log_kms_key_arn" {
  description = "ARN of the platform's KMS key for log groups (encrypts the users function's log group)."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Protect the memberships table against deletion (turn on for prod)."
  type        = bool
  default     = false
}

variable "execution_role_arn" {
  description = "ARN of the platform's execution role for the users service (<name_prefix>-users-exec)."
  type        = string
}

variable "tenant_role_arn" {
  description = "ARN of the platform's tenant role, passed to the function as TENANT_ROLE_ARN."
  type        = string
}

variable "tenant_role_name" {
  description = "Name of the platform's tenant role, which receives the users-tenant-data inline policy."
  type        = string
}

variable "api_id" {
  description = "Id of the platform's HTTP API."
  type        = string
}

variable "api_execution_arn" {
  description = "Execution ARN of the platform's HTTP API."
  type        = string
}

variable "authorizer_id" {
  description = "Id of the platform's JWT authorizer."
  type        = string
}

variable "tags" {
  description = "Extra tags for every resource of the module (provider default_tags still apply)."
  type        = map(string)
  default     = {}
}

variable "user_pool_id" {
  description = "Id of the platform's Cognito user pool, passed to the function as USER_POOL_ID."
  type        = string
}

variable "user_pool_arn" {
  description = "ARN of the platform's Cognito user pool: the only resource of the execution role's Cognito admin actions."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:cognito-idp:[a-z0-9-]+:[0-9]{12}:userpool/[^*]+$", var.user_pool_arn))
    error_message = "user_pool_arn must be one user pool's ARN."
  }
}

variable "authority_freshness_seconds" {
  description = "How long (seconds) the function may use a tenant record or membership it read (the platform's setting)."
  type        = number
}

variable "password_policy_json" {
  description = "The user pool's password policy as JSON (the platform's password_policy), for PASSWORD_POLICY."
  type        = string
}
