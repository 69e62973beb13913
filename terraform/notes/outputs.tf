output "table_name" {
  description = "Name of the notes table."
  value       = module.notes.service.table_name
}

output "function_name" {
  description = "Name of the notes function."
  value       = module.notes.service.function_name
}
