output "name" {
  description = "Name of the table."
  value       = aws_dynamodb_table.this.name
}

output "arn" {
  description = "ARN of the table."
  value       = aws_dynamodb_table.this.arn
}

output "policy_name" {
  description = "Name of the tenant role's inline policy on the table."
  value       = module.tenant_access.policy_name
}
