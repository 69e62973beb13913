variable "services" {
  description = "Services that get an execution role allowed to assume the tenant role."
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
  description = "Retention of every log group: the platform's, and the services' (published to them)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "jwt_issuer" {
  description = "Issuer accepted by the JWT authorizer; null means the user pool's."
  type        = string
  default     = null

  validation {
    # http:// only on the loopback: the local gateway's issuer.
    condition     = var.jwt_issuer == null || can(regex("^(https://|http://(127\\.0\\.0\\.1|localhost)(:[0-9]+)?/)", var.jwt_issuer))
    error_message = "jwt_issuer must be an https:// URL (http:// only for the local gateway on 127.0.0.1 or localhost)."
  }
}

variable "jwt_audience" {
  description = "Audiences accepted by the JWT authorizer; null means the app client id."
  type        = list(string)
  default     = null

  validation {
    condition     = var.jwt_audience == null || length(coalesce(var.jwt_audience, [])) > 0
    error_message = "jwt_audience must be null or a non-empty list."
  }
}

variable "throttling_burst_limit" {
  description = "Burst limit of every route of the HTTP API stage (the bucket depth); the local gateway enforces it too."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_burst_limit > 0
    error_message = "throttling_burst_limit must be positive."
  }
}

variable "throttling_rate_limit" {
  description = "Steady-state rate limit (requests per second) of every route of the HTTP API stage."
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
  description = "Extra tags for every resource of the platform (provider default_tags still apply)."
  type        = map(string)
  default     = {}
}

variable "token_claims_package" {
  description = "Path of the token-claims function zip (Cognito pre-token-generation trigger), e.g. target/lambda/token-claims/bootstrap.zip."
  type        = string

  validation {
    condition     = fileexists(var.token_claims_package)
    error_message = "token_claims_package must name an existing zip; build the token-claims function first."
  }
}

variable "architecture" {
  description = "Instruction set of every function binary, the services' included (arm64 on AWS; the host's for the local stack)."
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
  description = "Feature plan of the user pool (ESSENTIALS or PLUS); null leaves it to Cognito (ESSENTIALS for new pools). The local stack sets null: see local.tfvars."
  type        = string
  default     = "ESSENTIALS"

  validation {
    condition     = var.user_pool_tier == null || contains(["ESSENTIALS", "PLUS"], coalesce(var.user_pool_tier, "-"))
    error_message = "user_pool_tier must be ESSENTIALS, PLUS or null (LITE lacks the V2_0 pre-token-generation event)."
  }
}

variable "token_validity" {
  description = "Lifetimes of the app client's tokens (access and ID in minutes, refresh in days); see the platform module."
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
  description = "Protect the user pool and every service table against deletion; the local stack turns it off (local.tfvars)."
  type        = bool
  default     = true
}

variable "password_policy" {
  description = "The user pool's password policy, defined once: set on the pool and passed to the users and tenants functions (PASSWORD_POLICY), which check every password against it before they write anything."
  type = object({
    minimum_length    = optional(number, 12)
    require_lowercase = optional(bool, true)
    require_uppercase = optional(bool, true)
    require_numbers   = optional(bool, true)
    require_symbols   = optional(bool, false)
  })
  default = {}

  validation {
    condition     = var.password_policy.minimum_length >= 6 && var.password_policy.minimum_length <= 99 && floor(var.password_policy.minimum_length) == var.password_policy.minimum_length
    error_message = "password_policy.minimum_length must be a whole number from 6 to 99 (Cognito's range)."
  }
}

variable "user_messages" {
  description = "What Cognito emails users: the invitation ({username} and the temporary password {####}) and the code for a forgotten or reset password ({####}). On the local stack the gateway's mailbox keeps them (`saas mailbox`)."
  type = object({
    invitation_subject = optional(string, "Your account is ready")
    invitation_message = optional(string, "You have been invited. Your username is {username} and your temporary password is {####} (sign in with them, then choose a password of your own).")
    code_subject       = optional(string, "Your password reset code")
    code_message       = optional(string, "Your password reset code is {####} (valid for one hour).")
  })
  default = {}

  validation {
    condition     = strcontains(var.user_messages.invitation_message, "{username}") && strcontains(var.user_messages.invitation_message, "{####}")
    error_message = "user_messages.invitation_message must contain {username} and {####} (the temporary password)."
  }
  validation {
    condition     = strcontains(var.user_messages.code_message, "{####}")
    error_message = "user_messages.code_message must contain {####} (the code)."
  }
  validation {
    condition     = length(var.user_messages.invitation_subject) <= 140 && length(var.user_messages.code_subject) <= 140 && length(var.user_messages.invitation_message) <= 20000 && length(var.user_messages.code_message) <= 20000
    error_message = "user_messages: subjects at most 140 characters, messages at most 20,000 (Cognito's limits)."
  }
}

variable "email_sending" {
  description = "How Cognito sends email. COGNITO_DEFAULT (default): Cognito's own sender, with a small daily quota, for trials. DEVELOPER: your verified SES identity (ses_source_arn and from_address), for production volumes. No effect on the local stack, whose gateway keeps the messages."
  type = object({
    account           = optional(string, "COGNITO_DEFAULT")
    ses_source_arn    = optional(string)
    from_address      = optional(string)
    reply_to_address  = optional(string)
    configuration_set = optional(string)
  })
  default = {}

  validation {
    condition     = contains(["COGNITO_DEFAULT", "DEVELOPER"], var.email_sending.account)
    error_message = "email_sending.account must be COGNITO_DEFAULT or DEVELOPER."
  }
  validation {
    condition     = var.email_sending.account == "COGNITO_DEFAULT" || (var.email_sending.ses_source_arn != null && var.email_sending.from_address != null)
    error_message = "email_sending.account = DEVELOPER needs ses_source_arn (a verified SES identity) and from_address."
  }
  validation {
    condition     = var.email_sending.account == "DEVELOPER" || (var.email_sending.ses_source_arn == null && var.email_sending.from_address == null && var.email_sending.configuration_set == null)
    error_message = "email_sending: ses_source_arn, from_address and configuration_set need account = DEVELOPER."
  }
}

variable "authority_freshness_seconds" {
  description = "How old (seconds) the tenant record and membership behind a request's authority may be: each function instance caches them this long. Privileged writes always read them fresh. 0 reads them on every request."
  type        = number
  default     = 10

  validation {
    condition     = var.authority_freshness_seconds >= 0 && var.authority_freshness_seconds <= 60 && floor(var.authority_freshness_seconds) == var.authority_freshness_seconds
    error_message = "authority_freshness_seconds must be a whole number from 0 to 60."
  }
}
