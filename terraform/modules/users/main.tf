locals {
  tags = merge(var.tags, { service = "users" })
  routes = [
    "GET /users",
    "POST /users",
    "GET /users/me",
    "GET /users/{user_id}",
    "PUT /users/{user_id}/role",
    "POST /users/{user_id}/disable",
    "POST /users/{user_id}/enable",
    "POST /users/{user_id}/invitation",
    "POST /users/{user_id}/password-reset",
    "DELETE /users/{user_id}",
  ]
  # The platform names every execution role "<name_prefix>-<service>-exec".
  execution_role_name = "${var.name_prefix}-users-exec"
}

# Partition key = tenant id (LeadingKeys-scoped like every tenant-data table).
# Sort key `sk`: `user#<uuid>` membership items and the tenant's `usage` item.
resource "aws_dynamodb_table" "memberships" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key (aws/dynamodb). Tenant isolation is IAM's job (LeadingKeys on the tenant role), not per-key; a customer-managed key would add a key policy every reader must be granted, for no isolation gain here.
  name                        = "${var.name_prefix}-memberships"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "tenant_id"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "tenant_id"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  # Creates made with an Idempotency-Key are remembered for a day
  # (`request#...` items, tenancy::replay); DynamoDB removes them after.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = local.tags
}

# --- Tenant role: memberships of the session's tenant only --------------------
# Also what the token-claims trigger uses to read a membership (shared role).

# The tenant role's access to this service's tables: see ../tenant-data-access.
module "tenant_data" {
  source = "../tenant-data-access"

  policy_name      = "users-tenant-data"
  statement_id     = "MembershipsOfTheSessionTenantOnly"
  tenant_role_name = var.tenant_role_name
  table_arns       = [aws_dynamodb_table.memberships.arn]
  actions          = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"]
}

moved {
  from = aws_iam_role_policy.tenant_data
  to   = module.tenant_data.aws_iam_role_policy.this
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
    resources = [var.user_pool_arn]
  }
}

resource "aws_iam_role_policy" "execution_extra" {
  name   = "users-cognito-admin"
  role   = local.execution_role_name
  policy = data.aws_iam_policy_document.execution_extra.json

  lifecycle {
    precondition {
      condition     = endswith(var.execution_role_arn, ":role/${local.execution_role_name}")
      error_message = "execution_role_arn must be the platform's role ${local.execution_role_name}."
    }
  }
}

module "function" {
  source = "../lambda-service"

  function_name      = "${var.name_prefix}-users"
  description        = "Users service: the tenant's members (Cognito users + memberships) behind the HTTP API."
  package_path       = var.package_path
  architecture       = var.architecture
  memory_size        = var.memory_size
  timeout            = var.timeout
  execution_role_arn = var.execution_role_arn
  log_retention_days = var.log_retention_days
  log_kms_key_arn    = var.log_kms_key_arn
  tags               = local.tags

  # Authority also reads the tenant record (tenants module, by its name).
  environment = {
    MEMBERSHIPS_TABLE           = aws_dynamodb_table.memberships.name
    TENANTS_TABLE               = "${var.name_prefix}-tenants"
    AUTHORITY_FRESHNESS_SECONDS = var.authority_freshness_seconds
    PASSWORD_POLICY             = var.password_policy_json
    USER_POOL_ID                = var.user_pool_id
    TENANT_ROLE_ARN             = var.tenant_role_arn
    RUST_LOG                    = var.log_level
  }

  api_id            = var.api_id
  api_execution_arn = var.api_execution_arn
  authorizer_id     = var.authorizer_id
  routes            = local.routes
}
