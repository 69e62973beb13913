output "table_name" {
  description = "Name of the service's table."
  value       = module.table.name
}

output "table_arn" {
  description = "ARN of the service's table."
  value       = module.table.arn
}

output "tenant_policy_name" {
  description = "Name of the inline policy the service attaches to the tenant role."
  value       = module.table.policy_name
}

output "function_name" {
  description = "Name of the function."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the function."
  value       = module.function.function_arn
}

output "integration_id" {
  description = "Id of the API integration targeting the function."
  value       = module.function.integration_id
}

output "routes" {
  description = "Route keys behind the JWT authorizer."
  value       = local.routes
}

output "public_routes" {
  description = "Route keys without authorization."
  value       = local.public_routes
}

output "execution_policy_name" {
  description = "Name of the service's extra policy on its execution role (null for none)."
  value       = try(aws_iam_role_policy.execution[0].name, null)
}
