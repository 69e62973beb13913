# The tenants' records, tenant-partitioned like all tenant data (partition key
# tenant_id) and reached through the tenant role:
# - audit: the audit trails. Every service appends the entries of its requests;
#   the tenants service reads them for GET /audit. No route changes or removes
#   an entry (PutItem is conditional on the entry being new; never
#   UpdateItem); each is removed by the TTL after its tier's retention, or
#   with the whole trail when the tenant is offboarded (DeleteItem, its own
#   partition only, like every statement here).
# - outbox: lifecycle events, written in the same transaction as the change
#   they tell of and removed once the bus took them (libs/tenancy/src/events).
locals {
  record_tables = {
    audit = {
      expiry_attribute = "expires_at"
      statement_id     = "AuditTrailOfTheSessionTenantOnly"
      actions          = ["PutItem", "Query", "DeleteItem"]
    }
    outbox = {
      expiry_attribute = null
      statement_id     = "EventOutboxOfTheSessionTenantOnly"
      actions          = ["PutItem", "Query", "DeleteItem"]
    }
  }
}

module "record_table" {
  source   = "../tenant-table"
  for_each = local.record_tables

  name                = "${local.name_prefix}-${each.key}"
  expiry_attribute    = each.value.expiry_attribute
  deletion_protection = var.platform.deletion_protection
  tenant_access = {
    policy_name  = "${each.key}-tenant-data"
    statement_id = each.value.statement_id
    role_name    = var.platform.tenant_role_name
    actions      = each.value.actions
  }
  tags = merge(var.tags, { service = "tenants" })
}
