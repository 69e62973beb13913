variable "name_prefix" {
  description = "Prefix of every resource name, conventionally \"<project>-<env>\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "services" {
  description = "Services that get a Lambda execution role allowed to assume the tenant role. A service's function must be named \"<name_prefix>-<service>\"."
  type        = list(string)
  default     = ["notes", "users", "tenants", "token-claims"]

  validation {
    condition     = length(var.services) > 0 && alltrue([for s in var.services : can(regex("^[a-z][a-z0-9-]{0,30}$", s))])
    error_message = "services must be a non-empty list of lowercase names (letters, digits, dashes)."
  }

  validation {
    condition     = contains(var.services, "token-claims")
    error_message = "services must include token-claims: the platform deploys that trigger with its execution role."
  }
}

variable "log_retention_days" {
  description = "Retention of the platform's CloudWatch log groups."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "jwt_issuer" {
  description = "Issuer the JWT authorizer accepts. null means the user pool's issuer, https://cognito-idp.<region>.amazonaws.com/<pool id>."
  type        = string
  default     = null

  validation {
    # http:// only on the loopback: the local gateway's issuer.
    condition     = var.jwt_issuer == null || can(regex("^(https://|http://(127\\.0\\.0\\.1|localhost)(:[0-9]+)?/)", var.jwt_issuer))
    error_message = "jwt_issuer must be an https:// URL (http:// only for the local gateway on 127.0.0.1 or localhost)."
  }
}

variable "jwt_audience" {
  description = "Audiences (client ids) the JWT authorizer accepts. null means the platform's app client id."
  type        = list(string)
  default     = null

  validation {
    condition     = var.jwt_audience == null || length(coalesce(var.jwt_audience, [])) > 0
    error_message = "jwt_audience must be null or a non-empty list."
  }
}

variable "throttling_burst_limit" {
  description = "Default route burst limit of the HTTP API stage."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_burst_limit > 0
    error_message = "throttling_burst_limit must be positive."
  }
}

variable "throttling_rate_limit" {
  description = "Default route steady-state rate limit (requests per second) of the HTTP API stage."
  type        = number
  default     = 50

  validation {
    condition     = var.throttling_rate_limit > 0
    error_message = "throttling_rate_limit must be positive."
  }
}

variable "xray_tracing" {
  description = "Grant the execution roles the X-Ray write actions, for functions deployed with tracing_mode = \"Active\". X-Ray has no resource-level permissions, so this is the only wildcard resource the platform can grant."
  type        = bool
  default     = false
}

variable "tenant_session_duration" {
  description = "Maximum session duration (seconds) of the tenant role."
  type        = number
  default     = 3600

  validation {
    condition     = var.tenant_session_duration >= 900 && var.tenant_session_duration <= 43200
    error_message = "tenant_session_duration must be between 900 and 43200 seconds."
  }
}

variable "tags" {
  description = "Extra tags for every resource of the module (provider default_tags still apply)."
  type        = map(string)
  default     = {}
}

variable "token_claims_package" {
  description = "Path of the token-claims function zip (a Rust binary named bootstrap), the pool's pre-token-generation trigger."
  type        = string

  validation {
    condition     = endswith(var.token_claims_package, ".zip")
    error_message = "token_claims_package must point to a .zip file."
  }
}

variable "architecture" {
  description = "Instruction set of the token-claims binary: arm64 on AWS, the host's (x86_64) locally."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "token_claims_memory_size" {
  description = "Memory of the token-claims function in MB (sign-in latency: more memory, more CPU)."
  type        = number
  default     = 256
}

variable "log_level" {
  description = "RUST_LOG of the token-claims function."
  type        = string
  default     = "info"
}

variable "user_pool_tier" {
  description = "Feature plan of the user pool: ESSENTIALS or PLUS (the V2_0 pre-token-generation event needs one of them), or null to keep Cognito's default for new pools (ESSENTIALS) without managing it."
  type        = string
  default     = "ESSENTIALS"

  validation {
    condition     = var.user_pool_tier == null || contains(["ESSENTIALS", "PLUS"], coalesce(var.user_pool_tier, "-"))
    error_message = "user_pool_tier must be ESSENTIALS, PLUS or null (LITE lacks the V2_0 pre-token-generation event)."
  }
}

variable "token_validity" {
  description = "Lifetimes of the app client's tokens: access and ID tokens in minutes (5-1440), refresh tokens in days (1-3650). A token's claims say who the caller is for this long; what it may do is read from the records on every request."
  type = object({
    access_minutes = optional(number, 60)
    id_minutes     = optional(number, 60)
    refresh_days   = optional(number, 30)
  })
  default = {}

  validation {
    condition = (
      var.token_validity.access_minutes >= 5 && var.token_validity.access_minutes <= 1440 &&
      var.token_validity.id_minutes >= 5 && var.token_validity.id_minutes <= 1440 &&
      var.token_validity.refresh_days >= 1 && var.token_validity.refresh_days <= 3650
    )
    error_message = "token_validity: access and ID tokens 5-1440 minutes, refresh tokens 1-3650 days."
  }
}

variable "deletion_protection" {
  description = "Protect the user pool against deletion (on for every environment but the local stack)."
  type        = bool
  default     = true
}

variable "password_policy" {
  description = "The user pool's password policy (the platform root's password_policy, defaults and validation there)."
  type = object({
    minimum_length    = number
    require_lowercase = bool
    require_uppercase = bool
    require_numbers   = bool
    require_symbols   = bool
  })
}

variable "user_messages" {
  description = "What Cognito emails users (the platform root's user_messages, defaults and validation there)."
  type = object({
    invitation_subject = string
    invitation_message = string
    code_subject       = string
    code_message       = string
  })
}

variable "email_sending" {
  description = "How Cognito sends email (the platform root's email_sending, defaults and validation there)."
  type = object({
    account           = string
    ses_source_arn    = string
    from_address      = string
    reply_to_address  = string
    configuration_set = string
  })
}
