output "api_id" {
  description = "Id of the HTTP API."
  value       = aws_apigatewayv2_api.http.id
}

output "api_execution_arn" {
  description = "Execution ARN of the HTTP API (prefix of Lambda permission source ARNs)."
  value       = aws_apigatewayv2_api.http.execution_arn
}

output "api_endpoint" {
  description = "Base URL of the HTTP API."
  value       = aws_apigatewayv2_api.http.api_endpoint
}

output "authorizer_id" {
  description = "Id of the JWT authorizer that every service route uses."
  value       = aws_apigatewayv2_authorizer.jwt.id
}

output "tenant_role_arn" {
  description = "ARN of the tenant role services assume with session tag TenantId."
  value       = aws_iam_role.tenant.arn
}

output "tenant_role_name" {
  description = "Name of the tenant role (service modules attach their inline policies to it)."
  value       = aws_iam_role.tenant.name
}

output "user_pool_id" {
  description = "Id of the Cognito user pool."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_arn" {
  description = "ARN of the Cognito user pool."
  value       = aws_cognito_user_pool.this.arn
}

output "app_client_id" {
  description = "Id of the public app client."
  value       = aws_cognito_user_pool_client.app.id
}

output "jwt_issuer" {
  description = "Issuer the JWT authorizer accepts."
  value       = local.jwt_issuer
}

output "jwt_audience" {
  description = "Audiences the JWT authorizer accepts."
  value       = local.jwt_audience
}

output "execution_role_arns" {
  description = "Lambda execution role ARN per service."
  value       = { for s, r in aws_iam_role.execution : s => r.arn }
}

output "token_claims_function_name" {
  description = "Name of the pre-token-generation trigger function."
  value       = module.token_claims.function_name
}

output "token_claims_function_arn" {
  description = "ARN of the pre-token-generation trigger function."
  value       = module.token_claims.function_arn
}

output "logs_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the platform's and the services' log groups."
  value       = aws_kms_key.logs.arn
}
