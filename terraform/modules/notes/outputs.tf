output "service" {
  description = "The notes table, function, routes and tenant-role policy (see ../service/outputs.tf)."
  value       = module.service
}
