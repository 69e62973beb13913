# The service roots (notes, users, tenants) link this file in beside
# root.tf: the function package, the platform's published parameters and
# the outputs. Each root calls its service module as `module.service`.
variable "package_path" {
  description = "Path of the service's function zip, e.g. target/lambda/notes/bootstrap.zip."
  type        = string

  validation {
    condition     = fileexists(var.package_path)
    error_message = "package_path must name an existing zip; build it first (make build, or make package-local for the local stack)."
  }
}

module "platform" {
  source = "../modules/platform-parameters"

  project = var.project
  env     = var.env
  service = local.service
}

output "table_name" {
  description = "Name of the service's table."
  value       = module.service.service.table_name
}

output "function_name" {
  description = "Name of the service's function."
  value       = module.service.service.function_name
}
