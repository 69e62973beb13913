variable "project" {
  description = "Project name; must match the platform root's."
  type        = string
  default     = "saas"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,15}$", var.project))
    error_message = "project must be 2-16 lowercase letters or digits, starting with a letter."
  }
}

variable "env" {
  description = "Environment name; must match the platform root's."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.env))
    error_message = "env must be 2-12 lowercase letters or digits, starting with a letter (local, dev, prod, ...)."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "package_path" {
  description = "Path of the users function zip, e.g. target/lambda/users/bootstrap.zip."
  type        = string

  validation {
    condition     = fileexists(var.package_path)
    error_message = "package_path must name an existing zip; build the users function first."
  }
}
