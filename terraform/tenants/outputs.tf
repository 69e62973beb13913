output "table_name" {
  description = "Name of the tenants table."
  value       = module.tenants.table_name
}

output "slugs_table_name" {
  description = "Name of the slug registration claim table."
  value       = module.tenants.slugs_table_name
}

output "function_name" {
  description = "Name of the tenants function."
  value       = module.tenants.function_name
}

output "routes" {
  description = "JWT-protected route keys served by the tenants function."
  value       = module.tenants.routes
}

output "public_routes" {
  description = "Route keys served without authorization."
  value       = module.tenants.public_routes
}
