output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "Invoke ARN of the Lambda function (the integration URI)."
  value       = aws_lambda_function.this.invoke_arn
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "integration_id" {
  description = "Id of the API integration that targets the function (null for a function without routes)."
  value       = try(aws_apigatewayv2_integration.this[0].id, null)
}

output "route_ids" {
  description = "Route id per route key (JWT and public routes)."
  value       = { for k, r in aws_apigatewayv2_route.this : k => r.id }
}
