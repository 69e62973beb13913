variable "function_name" {
  description = "Name of the Lambda function; its log group is /aws/lambda/<function_name>."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 letters, digits, dashes or underscores."
  }
}

variable "description" {
  description = "Description of the Lambda function."
  type        = string
  default     = ""
}

variable "package_path" {
  description = "Path of the deployment zip, which holds the Rust binary named bootstrap."
  type        = string

  validation {
    condition     = endswith(var.package_path, ".zip")
    error_message = "package_path must point to a .zip file."
  }
}

variable "architecture" {
  description = "Instruction set the binary was built for."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout of the function in seconds; API Gateway gives up after 30 s anyway."
  type        = number
  default     = 10

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 30
    error_message = "timeout must be between 1 and 30 seconds (API Gateway gives up after 30 s, Cognito triggers after 5 s)."
  }
}

variable "environment" {
  description = "Environment variables of the function."
  type        = map(string)
  default     = {}
}

variable "execution_role_arn" {
  description = "ARN of the execution role (created by the platform) the function runs as."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/", var.execution_role_arn))
    error_message = "execution_role_arn must be an IAM role ARN."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing mode (\"Active\" or \"PassThrough\"), or null for none. Active needs the platform's xray_tracing."
  type        = string
  default     = null

  validation {
    condition     = var.tracing_mode == null || contains(["Active", "PassThrough"], coalesce(var.tracing_mode, "-"))
    error_message = "tracing_mode must be null, Active or PassThrough."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's log group."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the function's log group (the platform's logs key), or null for CloudWatch's default encryption."
  type        = string
  default     = null
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
