output "service" {
  description = "The tenants table, function, routes, tenant-role and execution-role policies (see ../service/outputs.tf)."
  value       = module.service
}

output "slugs_table_name" {
  description = "Name of the slug registration claim table."
  value       = aws_dynamodb_table.slugs.name
}

output "audit_table_name" {
  description = "Name of the tenants' audit trail table."
  value       = module.record_table["audit"].name
}

output "outbox_table_name" {
  description = "Name of the tenants' event outbox table."
  value       = module.record_table["outbox"].name
}
