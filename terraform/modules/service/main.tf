# What every service is: a tenant-data table the tenant role may reach only
# in the caller's partition, and a function behind the platform's HTTP API.
locals {
  name_prefix = var.platform.name_prefix
  tags        = merge(var.tags, { service = var.service })

  # The routes are the operations of the service's committed OpenAPI
  # document, so the API cannot serve what the document does not say (the
  # contract tests hold the code to it). An operation without `security`
  # (and none document-wide) is public.
  document = jsondecode(file("${path.module}/../../../services/${var.service}/openapi.json"))
  operations = merge([
    for path, item in local.document.paths : {
      for method, operation in item : "${upper(method)} ${path}" => length(try(operation.security, try(local.document.security, []))) == 0
      if contains(["get", "put", "post", "delete", "patch"], method)
    }
  ]...)
  routes        = [for key, public in local.operations : key if !public]
  public_routes = [for key, public in local.operations : key if public]
}

module "table" {
  source = "../tenant-table"

  name                = "${local.name_prefix}-${var.table.name}"
  expiry_attribute    = var.table.expiry_attribute
  deletion_protection = var.platform.deletion_protection
  tenant_access = {
    policy_name  = "${var.service}-tenant-data"
    statement_id = var.table.statement_id
    role_name    = var.platform.tenant_role_name
    actions      = var.table.actions
  }
  tags = local.tags
}

module "function" {
  source = "../lambda-service"

  function = {
    name               = "${local.name_prefix}-${var.service}"
    description        = var.description
    package_path       = var.package_path
    execution_role_arn = var.platform.execution_role_arn
    architecture       = var.platform.architecture
    memory_size        = var.function.memory_size
    timeout            = var.function.timeout
    log_retention_days = var.platform.log_retention_days
    log_kms_key_arn    = var.platform.logs_kms_key_arn

    # Every request's authority: the tenant record and the caller's membership,
    # read through the tenant role from the tenants and users services' tables;
    # every state-changing request's audit entry, written through it to the
    # tenants service's audit table (by name: the tenants and users services
    # may be applied after this one).
    environment = merge(
      {
        TENANTS_TABLE               = "${local.name_prefix}-tenants"
        MEMBERSHIPS_TABLE           = "${local.name_prefix}-memberships"
        AUDIT_TABLE                 = "${local.name_prefix}-audit"
        AUTHORITY_FRESHNESS_SECONDS = var.platform.authority_freshness_seconds
        TENANT_ROLE_ARN             = var.platform.tenant_role_arn
        RUST_LOG                    = var.function.log_level
      },
      { "${upper(var.table.name)}_TABLE" = module.table.name },
      var.publishes_events ? { OUTBOX_TABLE = local.outbox_table, EVENT_BUS_NAME = var.platform.event_bus_name } : {},
      var.environment,
    )
  }
  tags = local.tags

  api = {
    id            = var.platform.api_id
    execution_arn = var.platform.api_execution_arn
    authorizer_id = var.platform.authorizer_id
    routes        = local.routes
    public_routes = local.public_routes
  }
}

# The platform names every execution role "<name_prefix>-<service>-exec".
locals {
  execution_role_name = "${local.name_prefix}-${var.service}-exec"
}

resource "aws_iam_role_policy" "execution" {
  count = var.execution_policy == null ? 0 : 1

  name   = var.execution_policy.name
  role   = local.execution_role_name
  policy = var.execution_policy.json

  lifecycle {
    precondition {
      condition     = endswith(var.platform.execution_role_arn, ":role/${local.execution_role_name}")
      error_message = "execution_role_arn must be the platform's role ${local.execution_role_name}."
    }
  }
}

# --- Lifecycle events (publishes_events) ------------------------------------------
# Events wait in the tenants module's outbox table (by name, like the records
# above) and go out on the platform's lifecycle bus.
locals {
  outbox_table = "${local.name_prefix}-outbox"
}

resource "aws_iam_role_policy" "events" {
  count = var.publishes_events ? 1 : 0

  name = "${var.service}-lifecycle-events"
  role = local.execution_role_name
  # An event carries its tenant in its detail; PutEvents has no tenant
  # dimension to scope on. The platform's bus only.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "PublishLifecycleEvents"
      Effect   = "Allow"
      Action   = "events:PutEvents"
      Resource = var.platform.event_bus_arn
    }]
  })

  lifecycle {
    precondition {
      condition     = var.platform.event_bus_arn != null && var.platform.event_bus_name != null
      error_message = "publishes_events needs the platform's event_bus_name and event_bus_arn."
    }
  }
}
