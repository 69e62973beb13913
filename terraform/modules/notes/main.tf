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
# every item access to the caller's tenant. Sort key `sk`: `note#<uuid>` items
# and the tenant's `usage` counter item.
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

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = local.tags
}

data "aws_iam_policy_document" "tenant_data" {
  statement {
    sid = "NotesOfTheSessionTenantOnly"
    # UpdateItem: the usage counter; transactions are authorised per item action.
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Query",
    ]
    resources = [aws_dynamodb_table.notes.arn]

    # $${...} reaches IAM as the policy variable ${aws:PrincipalTag/TenantId}.
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = ["$${aws:PrincipalTag/TenantId}"]
    }

    # ForAllValues is vacuously true when the key is absent.
    condition {
      test     = "Null"
      variable = "dynamodb:LeadingKeys"
      values   = ["false"]
    }

    # And at least one leading key is the tenant's: with ForAllValues and the
    # Null guard this refuses an empty key list too, on any evaluator.
    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = ["$${aws:PrincipalTag/TenantId}"]
    }
  }
}

resource "aws_iam_role_policy" "tenant_data" {
  name   = "notes-tenant-data"
  role   = var.tenant_role_name
  policy = data.aws_iam_policy_document.tenant_data.json
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

  environment = {
    NOTES_TABLE     = aws_dynamodb_table.notes.name
    TENANT_ROLE_ARN = var.tenant_role_arn
    RUST_LOG        = var.log_level
  }

  api_id            = var.api_id
  api_execution_arn = var.api_execution_arn
  authorizer_id     = var.authorizer_id
  routes            = local.routes
}
