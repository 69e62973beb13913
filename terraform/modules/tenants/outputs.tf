output "table_name" {
  description = "Name of the tenants table."
  value       = aws_dynamodb_table.tenants.name
}

output "table_arn" {
  description = "ARN of the tenants table."
  value       = aws_dynamodb_table.tenants.arn
}

output "slugs_table_name" {
  description = "Name of the slug registration claim table (execution role only)."
  value       = aws_dynamodb_table.slugs.name
}

output "slugs_table_arn" {
  description = "ARN of the slug registration claim table."
  value       = aws_dynamodb_table.slugs.arn
}

output "function_name" {
  description = "Name of the tenants function."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the tenants function."
  value       = module.function.function_arn
}

output "integration_id" {
  description = "Id of the API integration targeting the tenants function."
  value       = module.function.integration_id
}

output "routes" {
  description = "JWT-protected route keys served by the tenants function."
  value       = local.routes
}

output "public_routes" {
  description = "Route keys served without authorization (public registration)."
  value       = local.public_routes
}

output "tenant_policy_name" {
  description = "Name of the inline policy the tenants service attaches to the tenant role."
  value       = module.tenant_data.policy_name
}

output "execution_policy_name" {
  description = "Name of the extra inline policy the tenants service attaches to its execution role."
  value       = aws_iam_role_policy.execution_extra.name
}
