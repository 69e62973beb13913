locals {
  service     = "platform"
  name_prefix = "${var.project}-${var.env}"
  ssm_prefix  = "/${var.project}/${var.env}/platform"
}

module "platform" {
  source = "../modules/platform"

  name_prefix        = local.name_prefix
  services           = var.services
  log_retention_days = var.log_retention_days
  jwt_issuer         = var.jwt_issuer
  jwt_audience       = var.jwt_audience

  throttling_burst_limit = var.throttling_burst_limit
  throttling_rate_limit  = var.throttling_rate_limit

  token_claims_package = var.token_claims_package
  architecture         = var.architecture
  user_pool_tier       = var.user_pool_tier
  token_validity       = var.token_validity
  deletion_protection  = var.deletion_protection
  password_policy      = var.password_policy
  user_messages        = var.user_messages
  email_sending        = var.email_sending
}

# The platform's interface to service roots: they read these parameters rather
# than this root's state, so the two roots never share state or write access.
locals {
  published = merge(
    {
      api_id            = module.platform.api_id
      api_execution_arn = module.platform.api_execution_arn
      api_endpoint      = module.platform.api_endpoint
      authorizer_id     = module.platform.authorizer_id
      tenant_role_arn   = module.platform.tenant_role_arn
      tenant_role_name  = module.platform.tenant_role_name
      user_pool_id      = module.platform.user_pool_id
      user_pool_arn     = module.platform.user_pool_arn
      app_client_id     = module.platform.app_client_id
      jwt_issuer        = module.platform.jwt_issuer
      logs_kms_key_arn  = module.platform.logs_kms_key_arn
      # A setting every service function reads (AUTHORITY_FRESHNESS_SECONDS).
      authority_freshness_seconds = tostring(var.authority_freshness_seconds)
      # The pool's password policy as JSON (PASSWORD_POLICY of users, tenants).
      password_policy = jsonencode(var.password_policy)
      # Settings every service applies to its function and tables.
      architecture        = var.architecture
      log_retention_days  = tostring(var.log_retention_days)
      deletion_protection = tostring(var.deletion_protection)
    },
    { for s, arn in module.platform.execution_role_arns : "execution_role_arn/${s}" => arn },
  )
}

resource "aws_ssm_parameter" "published" {
  #checkov:skip=CKV2_AWS_34:Non-secret identifiers (ids, ARNs, the issuer URL) that service roots read as plain String parameters; SecureString would mark every derived value sensitive and hide it from plans.
  for_each = local.published

  name        = "${local.ssm_prefix}/${each.key}"
  description = "Published by the platform root for service roots."
  type        = "String"
  value       = each.value
}
