output "table_name" {
  description = "Name of the memberships table."
  value       = aws_dynamodb_table.memberships.name
}

output "table_arn" {
  description = "ARN of the memberships table."
  value       = aws_dynamodb_table.memberships.arn
}

output "function_name" {
  description = "Name of the users function."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the users function."
  value       = module.function.function_arn
}

output "integration_id" {
  description = "Id of the API integration targeting the users function."
  value       = module.function.integration_id
}

output "routes" {
  description = "Route keys served by the users function (all JWT)."
  value       = local.routes
}

output "tenant_policy_name" {
  description = "Name of the inline policy the users service attaches to the tenant role."
  value       = module.tenant_data.policy_name
}

output "execution_policy_name" {
  description = "Name of the extra inline policy the users service attaches to its execution role."
  value       = aws_iam_role_policy.execution_extra.name
}
