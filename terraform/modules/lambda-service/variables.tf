variable "function" {
  description = "The function: its name (its log group is /aws/lambda/<name>), the zip holding the Rust binary `bootstrap`, the execution role (created by the platform) it runs as, and optional settings. `tracing_mode` is \"Active\", \"PassThrough\" or null (none); `log_kms_key_arn` null means CloudWatch's default encryption."
  type = object({
    name               = string
    description        = optional(string, "")
    package_path       = string
    execution_role_arn = string
    architecture       = optional(string, "arm64")
    memory_size        = optional(number, 256)
    timeout            = optional(number, 10)
    environment        = optional(map(string), {})
    tracing_mode       = optional(string)
    log_retention_days = optional(number, 30)
    log_kms_key_arn    = optional(string)
  })

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function.name))
    error_message = "function.name must be 1-64 letters, digits, dashes or underscores."
  }
  validation {
    condition     = endswith(var.function.package_path, ".zip")
    error_message = "function.package_path must point to a .zip file."
  }
  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/", var.function.execution_role_arn))
    error_message = "function.execution_role_arn must be an IAM role ARN."
  }
  validation {
    condition     = contains(["arm64", "x86_64"], var.function.architecture)
    error_message = "function.architecture must be arm64 or x86_64."
  }
  validation {
    condition     = var.function.memory_size >= 128 && var.function.memory_size <= 10240
    error_message = "function.memory_size must be between 128 and 10240 MB."
  }
  validation {
    # API Gateway gives up after 30 s, Cognito waits for a trigger 5 s.
    condition     = var.function.timeout >= 1 && var.function.timeout <= 30
    error_message = "function.timeout must be between 1 and 30 seconds."
  }
  validation {
    condition     = var.function.tracing_mode == null || contains(["Active", "PassThrough"], coalesce(var.function.tracing_mode, "-"))
    error_message = "function.tracing_mode must be null, Active or PassThrough."
  }
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.function.log_retention_days)
    error_message = "function.log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "api" {
  description = "The platform's HTTP API and the route keys (\"METHOD /path\") the function serves: `routes` behind the JWT authorizer, `public_routes` without authorization (keep that list short and justify each entry). Null for a function without API, such as a Cognito trigger."
  type = object({
    id            = string
    execution_arn = string
    authorizer_id = string
    routes        = optional(list(string), [])
    public_routes = optional(list(string), [])
  })
  default = null

  validation {
    condition = var.api == null || alltrue([
      for r in concat(try(var.api.routes, []), try(var.api.public_routes, [])) :
      can(regex("^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) /[^ ]*$", r))
    ])
    error_message = "api routes must be \"METHOD /path\" route keys."
  }

  validation {
    condition     = var.api == null || can(regex("^arn:[a-z-]+:execute-api:", var.api.execution_arn))
    error_message = "api.execution_arn must be an execute-api ARN."
  }

  validation {
    condition     = var.api == null || length(setintersection(try(var.api.routes, []), try(var.api.public_routes, []))) == 0
    error_message = "A route key cannot be both in api.routes and in api.public_routes."
  }
}

variable "tags" {
  description = "Tags for the function and its log group (provider default_tags still apply)."
  type        = map(string)
  default     = {}
}
