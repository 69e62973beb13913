# The Cognito pre-token-generation trigger belongs to the identity layer: the
# pool references it, so the platform deploys it (with the package the
# token-claims crate builds). It reads the tenant record and the membership
# with tenant-scoped credentials (the tenant role, through the users and
# tenants services' tenant-data policies). At an invited member's first
# sign-in it asks the users service, which owns memberships, to make the
# membership active (Lambda Invoke, below); its execution role has nothing else.
module "token_claims" {
  source = "../modules/lambda-service"

  function = {
    name               = "${local.name_prefix}-token-claims"
    description        = "Cognito pre-token-generation trigger (V2_0): adds tenant_id, tenant_role and tenant_tier claims."
    package_path       = var.token_claims_package
    execution_role_arn = aws_iam_role.execution["token-claims"].arn
    architecture       = var.architecture
    memory_size        = var.token_claims_memory_size
    timeout            = 5 # Cognito waits at most 5 s for a trigger
    log_retention_days = var.log_retention_days
    log_kms_key_arn    = aws_kms_key.logs.arn

    # Table names follow the service modules' convention; those roots apply
    # after this one, so the names cannot come from their outputs.
    environment = {
      TENANTS_TABLE       = "${local.name_prefix}-tenants"
      MEMBERSHIPS_TABLE   = "${local.name_prefix}-memberships"
      TENANT_ROLE_ARN     = aws_iam_role.tenant.arn
      USERS_FUNCTION_NAME = local.users_function_name
      RUST_LOG            = var.log_level
    }
  }
  tags = merge(local.tags, { service = "token-claims" })

  # No api: no integration, routes or API invoke permission.
}

# The users function by its conventional name: the users root applies after
# this one.
locals {
  users_function_name = "${local.name_prefix}-users"
  users_function_arn  = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.users_function_name}"
}

data "aws_iam_policy_document" "token_claims_activation" {
  statement {
    sid       = "ActivateInvitedMembers"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.users_function_arn]
  }
}

resource "aws_iam_role_policy" "token_claims_activation" {
  name   = "token-claims-activation"
  role   = aws_iam_role.execution["token-claims"].id
  policy = data.aws_iam_policy_document.token_claims_activation.json
}

# Cognito invokes the trigger; only this pool may.
resource "aws_lambda_permission" "cognito_token_claims" {
  statement_id  = "AllowCognitoPreTokenGeneration"
  action        = "lambda:InvokeFunction"
  function_name = module.token_claims.function_name
  principal     = "cognito-idp.amazonaws.com"
  source_arn    = aws_cognito_user_pool.this.arn
}
