output "service" {
  description = "The memberships table, function, routes, tenant-role and execution-role policies (see ../service/outputs.tf)."
  value       = module.service
}
