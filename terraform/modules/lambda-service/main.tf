# Created before the function so Lambda never auto-creates it without retention.
resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  function_name    = var.function_name
  description      = var.description
  role             = var.execution_role_arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.architecture]
  filename         = var.package_path
  source_code_hash = filebase64sha256(var.package_path)
  memory_size      = var.memory_size
  timeout          = var.timeout

  dynamic "environment" {
    for_each = length(var.environment) > 0 ? [var.environment] : []
    content {
      variables = environment.value
    }
  }

  dynamic "tracing_config" {
    for_each = var.tracing_mode == null ? [] : [var.tracing_mode]
    content {
      mode = tracing_config.value
    }
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.this]
}

locals {
  # Route key -> authorization type. Public routes are the explicit exception.
  route_authorization = merge(
    { for r in var.routes : r => "JWT" },
    { for r in var.public_routes : r => "NONE" },
  )
  has_api = length(local.route_authorization) > 0
}

# Only for a function behind the HTTP API; a trigger (e.g. token-claims) has none.
resource "aws_apigatewayv2_integration" "this" {
  count = local.has_api ? 1 : 0

  api_id                 = var.api_id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.this.invoke_arn
  payload_format_version = "2.0"

  lifecycle {
    precondition {
      condition     = var.api_id != null && var.api_execution_arn != null
      error_message = "api_id and api_execution_arn are required when the function has routes."
    }
    precondition {
      condition     = length(var.routes) == 0 || var.authorizer_id != null
      error_message = "authorizer_id is required when the function has JWT routes."
    }
    precondition {
      condition     = length(setintersection(var.routes, var.public_routes)) == 0
      error_message = "A route key cannot be both in routes and in public_routes."
    }
  }
}

# Every route uses the JWT authorizer unless listed in public_routes.
resource "aws_apigatewayv2_route" "this" {
  for_each = local.route_authorization

  api_id             = var.api_id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.this[0].id}"
  authorization_type = each.value
  authorizer_id      = each.value == "JWT" ? var.authorizer_id : null
}

# Any stage and route of this API only; the API's routes to this function are
# all listed above, so a per-route source ARN would add statements, not safety.
resource "aws_lambda_permission" "api" {
  count = local.has_api ? 1 : 0

  statement_id  = "AllowHttpApiInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${var.api_execution_arn}/*/*"
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
