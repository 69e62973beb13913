# What the platform root publishes for service roots (terraform/platform,
# aws_ssm_parameter.published), read once here for every service root, so
# that no root declares a variable only to pass a platform value on.
locals {
  prefix = "/${var.project}/${var.env}/platform"
  keys = [
    "api_id",
    "api_execution_arn",
    "architecture",
    "authority_freshness_seconds",
    "authorizer_id",
    "deletion_protection",
    "event_bus_arn",
    "event_bus_name",
    "logs_kms_key_arn",
    "log_retention_days",
    "password_policy",
    "tenant_role_arn",
    "tenant_role_name",
    "user_pool_arn",
    "user_pool_id",
    "execution_role_arn/${var.service}",
  ]
  # insecure_value: plain String parameters; `value` would mark every derived
  # attribute sensitive and hide it from plans.
  value = { for key, parameter in data.aws_ssm_parameter.published : key => parameter.insecure_value }
}

data "aws_ssm_parameter" "published" {
  for_each = toset(local.keys)
  name     = "${local.prefix}/${each.key}"
}
