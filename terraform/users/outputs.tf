output "table_name" {
  description = "Name of the memberships table."
  value       = module.users.service.table_name
}

output "function_name" {
  description = "Name of the users function."
  value       = module.users.service.function_name
}
