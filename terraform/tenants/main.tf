locals {
  name_prefix = "${var.project}-${var.env}"
  ssm_prefix  = "/${var.project}/${var.env}/platform"
  platform_keys = [
    "api_id",
    "api_execution_arn",
    "authorizer_id",
    "tenant_role_arn",
    "tenant_role_name",
    "logs_kms_key_arn",
    "authority_freshness_seconds",
    "password_policy",
    "user_pool_id",
    "user_pool_arn",
    "execution_role_arn/tenants",
  ]
  # insecure_value: these are plain String parameters, and `value` would mark
  # every derived attribute sensitive and hide it from plans.
  platform = { for k, p in data.aws_ssm_parameter.platform : k => p.insecure_value }
}

data "aws_ssm_parameter" "platform" {
  for_each = toset(local.platform_keys)
  name     = "${local.ssm_prefix}/${each.key}"
}

# Registration invokes "<project>-<env>-users" by name: apply the users root
# before this one (the grant itself does not need the function to exist).
module "tenants" {
  source = "../modules/tenants"

  name_prefix         = local.name_prefix
  package_path        = var.package_path
  architecture        = var.architecture
  log_retention_days  = var.log_retention_days
  log_kms_key_arn     = local.platform["logs_kms_key_arn"]
  deletion_protection = var.deletion_protection

  execution_role_arn = local.platform["execution_role_arn/tenants"]
  tenant_role_arn    = local.platform["tenant_role_arn"]
  tenant_role_name   = local.platform["tenant_role_name"]
  api_id             = local.platform["api_id"]
  api_execution_arn  = local.platform["api_execution_arn"]
  authorizer_id      = local.platform["authorizer_id"]

  authority_freshness_seconds = tonumber(local.platform["authority_freshness_seconds"])
  password_policy_json        = local.platform["password_policy"]
  registration_expiry_seconds = var.registration_expiry_seconds
  registration_sweep_schedule = var.registration_sweep_schedule
  user_pool_id                = local.platform["user_pool_id"]
  user_pool_arn               = local.platform["user_pool_arn"]
}
