output "table_name" {
  description = "Name of the notes table."
  value       = aws_dynamodb_table.notes.name
}

output "table_arn" {
  description = "ARN of the notes table."
  value       = aws_dynamodb_table.notes.arn
}

output "function_name" {
  description = "Name of the notes function."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the notes function."
  value       = module.function.function_arn
}

output "integration_id" {
  description = "Id of the API integration targeting the notes function."
  value       = module.function.integration_id
}

output "routes" {
  description = "Route keys served by the notes function."
  value       = local.routes
}

output "tenant_policy_name" {
  description = "Name of the inline policy the notes service attaches to the tenant role."
  value       = module.tenant_data.policy_name
}
