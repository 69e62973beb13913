output "table_name" {
  description = "Name of the tenants table."
  value       = module.tenants.service.table_name
}

output "function_name" {
  description = "Name of the tenants function."
  value       = module.tenants.service.function_name
}
