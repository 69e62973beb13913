output "table_name" {
  description = "Name of the memberships table."
  value       = module.users.table_name
}

output "function_name" {
  description = "Name of the users function."
  value       = module.users.function_name
}

output "routes" {
  description = "Route keys served by the users function."
  value       = module.users.routes
}
