output "platform" {
  description = "The platform's values a service module takes (its `platform` variable)."
  value = {
    name_prefix                 = "${var.project}-${var.env}"
    architecture                = local.value["architecture"]
    log_retention_days          = tonumber(local.value["log_retention_days"])
    logs_kms_key_arn            = local.value["logs_kms_key_arn"]
    deletion_protection         = tobool(local.value["deletion_protection"])
    execution_role_arn          = local.value["execution_role_arn/${var.service}"]
    tenant_role_arn             = local.value["tenant_role_arn"]
    tenant_role_name            = local.value["tenant_role_name"]
    api_id                      = local.value["api_id"]
    api_execution_arn           = local.value["api_execution_arn"]
    authorizer_id               = local.value["authorizer_id"]
    authority_freshness_seconds = tonumber(local.value["authority_freshness_seconds"])
    password_policy_json        = local.value["password_policy"]
    user_pool_id                = local.value["user_pool_id"]
    user_pool_arn               = local.value["user_pool_arn"]
    event_bus_name              = local.value["event_bus_name"]
    event_bus_arn               = local.value["event_bus_arn"]
  }
}
