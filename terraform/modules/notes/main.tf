# The notes service on the platform: see ../service for what every service is.
module "service" {
  source = "../service"

  service      = "notes"
  description  = "Notes service: tenant-scoped notes CRUD behind the HTTP API."
  platform     = var.platform
  package_path = var.package_path
  function     = var.function
  tags         = var.tags

  # Sort key `sk`: `note#<uuid>` items, the tenant's `usage` counter item and
  # remembered creates (`request#...`, removed a day later by the TTL).
  table = {
    name             = "notes"
    expiry_attribute = "expires_at"
    statement_id     = "NotesOfTheSessionTenantOnly"
    # UpdateItem: the usage counter; transactions are authorised per item action.
    actions = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"]
  }
}

# Where earlier versions of this module kept these objects.
moved {
  from = aws_dynamodb_table.notes
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
