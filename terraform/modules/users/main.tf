# The users service on the platform: see ../service for what every service is.
# Its table is also what the token-claims trigger reads a membership from
# (through the shared tenant role).
module "service" {
  source = "../service"

  service      = "users"
  description  = "Users service: the tenant's members (Cognito users + memberships) behind the HTTP API."
  platform     = var.platform
  package_path = var.package_path
  function     = var.function
  tags         = var.tags

  publishes_events = true

  execution_policy = {
    name = "users-cognito-admin"
    json = data.aws_iam_policy_document.execution_extra.json
  }

  # Sort key `sk`: `user#<uuid>` membership items, the tenant's `usage` item
  # and remembered creates (`request#...`, removed a day later by the TTL).
  table = {
    name             = "memberships"
    expiry_attribute = "expires_at"
    statement_id     = "MembershipsOfTheSessionTenantOnly"
    actions          = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"]
  }

  environment = {
    PASSWORD_POLICY = var.platform.password_policy_json
    USER_POOL_ID    = var.platform.user_pool_id
  }
}

# --- Execution role: Cognito user administration --------------------------------

data "aws_iam_policy_document" "execution_extra" {
  # Cognito has no tenant-scoped authorisation: IAM cannot condition admin
  # actions on a user's custom:tenant_id, and session tags do not reach
  # cognito-idp. So these run as the execution role, on this pool only; the
  # service checks (from the verified claims and the memberships table, read
  # with tenant-scoped credentials) that the target user belongs to the
  # caller's tenant before every call.
  statement {
    sid = "AdministerUsersOfThePlatformPool"
    actions = [
      "cognito-idp:AdminCreateUser",
      "cognito-idp:AdminGetUser",
      "cognito-idp:AdminDeleteUser",
      "cognito-idp:AdminDisableUser",
      "cognito-idp:AdminEnableUser",
      "cognito-idp:AdminResetUserPassword",
      "cognito-idp:AdminSetUserPassword",
      "cognito-idp:AdminUserGlobalSignOut",
    ]
    resources = [var.platform.user_pool_arn]
  }
}

# Where earlier versions of this module kept these objects.
moved {
  from = aws_iam_role_policy.execution_extra
  to   = module.service.aws_iam_role_policy.execution[0]
}

moved {
  from = aws_dynamodb_table.memberships
  to   = module.service.module.table.aws_dynamodb_table.this
}

moved {
  from = module.tenant_data.aws_iam_role_policy.this
  to   = module.service.module.table.module.tenant_access.aws_iam_role_policy.this
}

moved {
  from = module.function
  to   = module.service.module.function
}
