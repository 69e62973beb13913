data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  service     = "platform"
  name_prefix = "${var.project}-${var.env}"
  ssm_prefix  = "/${var.project}/${var.env}/platform"

  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  tags       = merge(var.tags, { service = "platform" })

  jwt_issuer   = coalesce(var.jwt_issuer, "https://cognito-idp.${local.region}.amazonaws.com/${aws_cognito_user_pool.this.id}")
  jwt_audience = coalesce(var.jwt_audience, [aws_cognito_user_pool_client.app.id])
}

# The platform's interface to service roots: they read these parameters rather
# than this root's state, so the two roots never share state or write access.
locals {
  published = merge(
    {
      api_id            = aws_apigatewayv2_api.http.id
      api_execution_arn = aws_apigatewayv2_api.http.execution_arn
      api_endpoint      = aws_apigatewayv2_api.http.api_endpoint
      authorizer_id     = aws_apigatewayv2_authorizer.jwt.id
      tenant_role_arn   = aws_iam_role.tenant.arn
      tenant_role_name  = aws_iam_role.tenant.name
      user_pool_id      = aws_cognito_user_pool.this.id
      user_pool_arn     = aws_cognito_user_pool.this.arn
      app_client_id     = aws_cognito_user_pool_client.app.id
      jwt_issuer        = local.jwt_issuer
      logs_kms_key_arn  = aws_kms_key.logs.arn
      # The lifecycle bus (events.tf) the services publish on.
      event_bus_name = aws_cloudwatch_event_bus.lifecycle.name
      event_bus_arn  = aws_cloudwatch_event_bus.lifecycle.arn
      # A setting every service function reads (AUTHORITY_FRESHNESS_SECONDS).
      authority_freshness_seconds = tostring(var.authority_freshness_seconds)
      # The pool's password policy as JSON (PASSWORD_POLICY of users, tenants).
      password_policy = jsonencode(var.password_policy)
      # Settings every service applies to its function and tables.
      architecture        = var.architecture
      log_retention_days  = tostring(var.log_retention_days)
      deletion_protection = tostring(var.deletion_protection)
    },
    { for s, role in aws_iam_role.execution : "execution_role_arn/${s}" => role.arn },
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

# Earlier versions kept everything below in a module "platform" that only
# this root called.
moved {
  from = module.platform.aws_apigatewayv2_api.http
  to   = aws_apigatewayv2_api.http
}
moved {
  from = module.platform.aws_apigatewayv2_authorizer.jwt
  to   = aws_apigatewayv2_authorizer.jwt
}
moved {
  from = module.platform.aws_cloudwatch_log_group.access
  to   = aws_cloudwatch_log_group.access
}
moved {
  from = module.platform.aws_apigatewayv2_stage.default
  to   = aws_apigatewayv2_stage.default
}
moved {
  from = module.platform.aws_cognito_user_pool.this
  to   = aws_cognito_user_pool.this
}
moved {
  from = module.platform.aws_cognito_user_pool_client.app
  to   = aws_cognito_user_pool_client.app
}
moved {
  from = module.platform.aws_cognito_user_group.platform_admin
  to   = aws_cognito_user_group.platform_admin
}
moved {
  from = module.platform.aws_iam_role.execution
  to   = aws_iam_role.execution
}
moved {
  from = module.platform.aws_iam_role_policy.execution
  to   = aws_iam_role_policy.execution
}
moved {
  from = module.platform.aws_iam_role.tenant
  to   = aws_iam_role.tenant
}
moved {
  from = module.platform.aws_kms_key.logs
  to   = aws_kms_key.logs
}
moved {
  from = module.platform.module.token_claims
  to   = module.token_claims
}
moved {
  from = module.platform.aws_iam_role_policy.token_claims_activation
  to   = aws_iam_role_policy.token_claims_activation
}
moved {
  from = module.platform.aws_lambda_permission.cognito_token_claims
  to   = aws_lambda_permission.cognito_token_claims
}
