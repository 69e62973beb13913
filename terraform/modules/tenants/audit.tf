# The tenants' audit trails: one partition per tenant (partition key
# tenant_id), entries in time order, each removed by the TTL after its tier's
# retention. Every service appends the entries of its requests through the
# tenant role; the tenants service reads them for GET /audit. Entries are
# only ever added: the tenant role gets PutItem (conditional on the entry
# being new, in the code) and Query, never UpdateItem or DeleteItem.
module "audit_table" {
  source = "../tenant-table"

  name                = "${local.name_prefix}-audit"
  expiry_attribute    = "expires_at"
  deletion_protection = var.platform.deletion_protection
  tenant_access = {
    policy_name  = "audit-tenant-data"
    statement_id = "AuditTrailOfTheSessionTenantOnly"
    role_name    = var.platform.tenant_role_name
    actions      = ["PutItem", "Query"]
  }
  tags = merge(var.tags, { service = "tenants" })
}
