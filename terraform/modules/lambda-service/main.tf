# Created before the function so Lambda never auto-creates it without retention.
resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is var.function.log_retention_days per environment (default 30 d). Function logs carry tenant and user ids: keeping them a year by default would contradict data minimisation; audit trails belong in CloudTrail.
  name              = "/aws/lambda/${var.function.name}"
  retention_in_days = var.function.log_retention_days
  kms_key_id        = var.function.log_kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Invoked only synchronously (HTTP API proxy integration, Cognito trigger); a DLQ only ever receives failed asynchronous events, and callers get the error.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is carved out of the account's regional pool (10 on new accounts, where reserving fails) and caps the API at a guess; load is limited by the HTTP API stage throttling instead.
  #checkov:skip=CKV_AWS_117:The functions reach only AWS public endpoints (DynamoDB, STS, Cognito, Lambda) with IAM-authenticated calls and no private resources; a VPC would add NAT or interface endpoints and cold-start cost for no isolation gain.
  #checkov:skip=CKV_AWS_272:Release zips are built in CI from a tagged commit and published with SHA-256 checksums, and only the release workflow's OIDC role deploys; AWS Signer code signing is not set up (roadmap).
  #checkov:skip=CKV_AWS_50:X-Ray is opt-in (function.tracing_mode; the platform's xray_tracing grants the execution roles the permission), off by default for cost; every log line carries the request id. Earlier checkov runs passed only because they could not resolve the dynamic block.
  #checkov:skip=CKV_AWS_173:The environment holds no secrets (table names, the tenant role ARN, log level); Lambda encrypts it at rest with its AWS managed key.
  function_name    = var.function.name
  description      = var.function.description
  role             = var.function.execution_role_arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.function.architecture]
  filename         = var.function.package_path
  source_code_hash = filebase64sha256(var.function.package_path)
  memory_size      = var.function.memory_size
  timeout          = var.function.timeout

  dynamic "environment" {
    for_each = length(var.function.environment) > 0 ? [var.function.environment] : []
    content {
      variables = environment.value
    }
  }

  dynamic "tracing_config" {
    for_each = var.function.tracing_mode == null ? [] : [var.function.tracing_mode]
    content {
      mode = tracing_config.value
    }
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.this]
}

locals {
  # Route key -> authorization type. Public routes are the explicit exception.
  route_authorization = var.api == null ? {} : merge(
    { for r in var.api.routes : r => "JWT" },
    { for r in var.api.public_routes : r => "NONE" },
  )
  has_api = length(local.route_authorization) > 0
}

# Only for a function behind the HTTP API; a trigger (e.g. token-claims) has none.
resource "aws_apigatewayv2_integration" "this" {
  count = local.has_api ? 1 : 0

  api_id                 = var.api.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.this.invoke_arn
  payload_format_version = "2.0"
}

# Every route uses the JWT authorizer unless listed in public_routes.
resource "aws_apigatewayv2_route" "this" {
  #checkov:skip=CKV_AWS_309:authorization_type comes from local.route_authorization: JWT for every route except public_routes, the operations a service document leaves without security (only POST /tenants, public registration; tests/infra pins that); tests/infra checks each deployed route's authorization.
  for_each = local.route_authorization

  api_id             = var.api.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.this[0].id}"
  authorization_type = each.value
  authorizer_id      = each.value == "JWT" ? var.api.authorizer_id : null
}

# Any stage and route of this API only; the API's routes to this function are
# all listed above, so a per-route source ARN would add statements, not safety.
resource "aws_lambda_permission" "api" {
  count = local.has_api ? 1 : 0

  statement_id  = "AllowHttpApiInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${var.api.execution_arn}/*/*"
}

# The integration and the permission became optional (count): keep the
# existing objects of deployed services instead of replacing them.
moved {
  from = aws_apigatewayv2_integration.this
  to   = aws_apigatewayv2_integration.this[0]
}

moved {
  from = aws_lambda_permission.api
  to   = aws_lambda_permission.api[0]
}
