output "service" {
  description = "The tenants table, function, routes and tenant-role policy (see ../service/outputs.tf)."
  value       = module.service
}

output "slugs_table_name" {
  description = "Name of the slug registration claim table."
  value       = aws_dynamodb_table.slugs.name
}

output "execution_policy_name" {
  description = "Name of the registration and platform-admin policy on the tenants execution role."
  value       = aws_iam_role_policy.execution_extra.name
}
