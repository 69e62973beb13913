output "service" {
  description = "The memberships table, function, routes and tenant-role policy (see ../service/outputs.tf)."
  value       = module.service
}

output "execution_policy_name" {
  description = "Name of the Cognito administration policy on the users execution role."
  value       = aws_iam_role_policy.execution_extra.name
}
