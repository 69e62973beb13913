# A table of tenant data and the tenant role's access to it. Partition key =
# tenant id, so the tenant role's LeadingKeys condition confines every item
# access to the caller's tenant; sort key `sk` (the service's item kinds).
resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key (aws/dynamodb). Tenant isolation is IAM's job (LeadingKeys on the tenant role), not per-key; a customer-managed key would add a key policy every reader must be granted, for no isolation gain here.
  name                        = var.name
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

  # Items that carry this attribute (epoch seconds) are removed after it.
  dynamic "ttl" {
    for_each = var.expiry_attribute == null ? [] : [var.expiry_attribute]
    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = var.tags
}

# The tenant role's access: see ../tenant-data-access.
module "tenant_access" {
  source = "../tenant-data-access"

  access = merge(var.tenant_access, { table_arns = [aws_dynamodb_table.this.arn] })
}
