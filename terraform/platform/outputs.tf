output "api_id" {
  description = "Id of the HTTP API."
  value       = module.platform.api_id
}

output "api_endpoint" {
  description = "Base URL of the HTTP API."
  value       = module.platform.api_endpoint
}

output "authorizer_id" {
  description = "Id of the JWT authorizer."
  value       = module.platform.authorizer_id
}

output "tenant_role_arn" {
  description = "ARN of the tenant role."
  value       = module.platform.tenant_role_arn
}

output "user_pool_id" {
  description = "Id of the Cognito user pool."
  value       = module.platform.user_pool_id
}

output "user_pool_arn" {
  description = "ARN of the Cognito user pool."
  value       = module.platform.user_pool_arn
}

output "token_claims_function_name" {
  description = "Name of the pre-token-generation trigger function."
  value       = module.platform.token_claims_function_name
}

output "app_client_id" {
  description = "Id of the app client."
  value       = module.platform.app_client_id
}

output "jwt_issuer" {
  description = "Issuer the JWT authorizer accepts."
  value       = module.platform.jwt_issuer
}

output "execution_role_arns" {
  description = "Execution role ARN per service."
  value       = module.platform.execution_role_arns
}

output "ssm_prefix" {
  description = "SSM path under which the platform publishes its outputs."
  value       = local.ssm_prefix
}
