output "api_id" {
  description = "Id of the HTTP API."
  value       = aws_apigatewayv2_api.http.id
}

output "api_endpoint" {
  description = "Base URL of the HTTP API."
  value       = aws_apigatewayv2_api.http.api_endpoint
}

output "authorizer_id" {
  description = "Id of the JWT authorizer."
  value       = aws_apigatewayv2_authorizer.jwt.id
}

output "tenant_role_arn" {
  description = "ARN of the tenant role."
  value       = aws_iam_role.tenant.arn
}

output "user_pool_id" {
  description = "Id of the Cognito user pool."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_arn" {
  description = "ARN of the Cognito user pool."
  value       = aws_cognito_user_pool.this.arn
}

output "token_claims_function_name" {
  description = "Name of the pre-token-generation trigger function."
  value       = module.token_claims.function_name
}

output "app_client_id" {
  description = "Id of the app client."
  value       = aws_cognito_user_pool_client.app.id
}

output "jwt_issuer" {
  description = "Issuer the JWT authorizer accepts."
  value       = local.jwt_issuer
}

output "execution_role_arns" {
  description = "Execution role ARN per service."
  value       = { for s, role in aws_iam_role.execution : s => role.arn }
}

output "ssm_prefix" {
  description = "SSM path under which the platform publishes its outputs."
  value       = local.ssm_prefix
}
