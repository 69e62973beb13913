locals {
  tags = merge(var.tags, { service = "notes" })
  routes = [
    "GET /notes",
    "POST /notes",
    "GET /notes/{note_id}",
    "PUT /notes/{note_id}",
    "DELETE /notes/{note_id}",
  ]
}

# Partition key = tenant id: the tenant role's LeadingKeys condition confines
# every item access to the caller's tenant. Sort key `sk`: `note#<uuid>` items,
# the tenant's `usage` counter item and remembered creates (`request#...`).
resource "aws_dynamodb_table" "notes" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key (aws/dynamodb). Tenant isolation is IAM's job (LeadingKeys on the tenant role), not per-key; a customer-managed key would add a key policy every reader must be granted, for no isolation gain here.
  name                        = "${var.name_prefix}-notes"
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

# The tenant role's access to this service's tables: see ../tenant-data-access.
module "tenant_data" {
  source = "../tenant-data-access"

  policy_name      = "notes-tenant-data"
  statement_id     = "NotesOfTheSessionTenantOnly"
  tenant_role_name = var.tenant_role_name
  table_arns       = [aws_dynamodb_table.notes.arn]
  # UpdateItem: the usage counter; transactions are authorised per item action.
  actions = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"]
}

moved {
  from = aws_iam_role_policy.tenant_data
  to   = module.tenant_data.aws_iam_role_policy.this
}

module "function" {
  source = "../lambda-service"

  function_name      = "${var.name_prefix}-notes"
  description        = "Notes service: tenant-scoped notes CRUD behind the HTTP API."
  package_path       = var.package_path
  architecture       = var.architecture
  memory_size        = var.memory_size
  timeout            = var.timeout
  execution_role_arn = var.execution_role_arn
  log_retention_days = var.log_retention_days
  log_kms_key_arn    = var.log_kms_key_arn
  tags               = local.tags

  # Every request's authority: the tenant record and the caller's membership,
  # read through the tenant role (the tenants and users modules' statements).
  # Names follow those modules' convention: they may be applied after this one.
  environment = {
    NOTES_TABLE                 = aws_dynamodb_table.notes.name
    TENANTS_TABLE               = "${var.name_prefix}-tenants"
    MEMBERSHIPS_TABLE           = "${var.name_prefix}-memberships"
    AUTHORITY_FRESHNESS_SECONDS = var.authority_freshness_seconds
    TENANT_ROLE_ARN             = var.tenant_role_arn
    RUST_LOG                    = var.log_level
  }

  api_id            = var.api_id
  api_execution_arn = var.api_execution_arn
  authorizer_id     = var.authorizer_id
  routes            = local.routes
}
