output "table_name" {
  description = "Name of the notes table."
  value       = module.notes.table_name
}

output "function_name" {
  description = "Name of the notes function."
  value       = module.notes.function_name
}

output "routes" {
  description = "Route keys served by the notes function."
  value       = module.notes.routes
}
