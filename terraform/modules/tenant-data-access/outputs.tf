output "policy_name" {
  description = "Name of the inline policy on the tenant role."
  value       = aws_iam_role_policy.this.name
}
