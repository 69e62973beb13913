data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  name_prefix = var.platform.name_prefix
  # The platform names every function "<name_prefix>-<service>".
  users_function_name = "${local.name_prefix}-users"
  notes_function_name = "${local.name_prefix}-notes"
  function_arn_prefix = "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:function"

}

# The tenants service on the platform: see ../service for what every service
# is. Its table is also what the token-claims trigger reads a tenant from
# (through the shared tenant role).
module "service" {
  source = "../service"

  service      = "tenants"
  description  = "Tenants service: registration, the tenant's own record, platform-admin tenant management."
  platform     = var.platform
  package_path = var.package_path
  function     = var.function
  tags         = var.tags

  publishes_events = true

  execution_policy = {
    name = "tenants-registration-and-admin"
    json = data.aws_iam_policy_document.execution_extra.json
  }

  # Sort key `sk`: the `tenant` item (status, tier, name, slug) and, while
  # the tenant is erased, its `erasure_receipt`; offboarding deletes both.
  table = {
    name         = "tenants"
    statement_id = "TenantRecordOfTheSessionTenantOnly"
    actions      = ["GetItem", "PutItem", "UpdateItem", "DeleteItem"]
  }

  environment = {
    TENANT_SLUGS_TABLE          = aws_dynamodb_table.slugs.name
    PASSWORD_POLICY             = var.platform.password_policy_json
    REGISTRATION_EXPIRY_SECONDS = var.registration.expiry_seconds
    USERS_FUNCTION_NAME         = local.users_function_name
    NOTES_FUNCTION_NAME         = local.notes_function_name
    CLOSURE_GRACE_SECONDS       = var.offboarding.closure_grace_seconds
    # No request admitted before offboarding can still run after this: one
    # authority window plus the services' longest request.
    ERASURE_SETTLE_SECONDS = var.platform.authority_freshness_seconds + var.offboarding.request_timeout_seconds
    USER_POOL_ID           = var.platform.user_pool_id
  }
}

# Registration claims: one item per slug, written (conditionally) before the
# tenant exists. NOT tenant data: keyed by slug, so the tenant role gets no
# access to it; only the tenants execution role does (see below).
resource "aws_dynamodb_table" "slugs" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key (aws/dynamodb). Tenant isolation is IAM's job (LeadingKeys on the tenant role), not per-key; a customer-managed key would add a key policy every reader must be granted, for no isolation gain here.
  name                        = "${local.name_prefix}-tenant-slugs"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "slug"
  deletion_protection_enabled = var.platform.deletion_protection

  attribute {
    name = "slug"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = merge(var.tags, { service = "tenants" })
}

# --- Execution role: what cannot be tenant-scoped -------------------------------

data "aws_iam_policy_document" "execution_extra" {
  # Public registration runs before any tenant exists (no tenant id to tag a
  # session with), and a slug claim is global by nature (unique across all
  # tenants), so its partition key is the slug, never a tenant id.
  statement {
    sid = "ClaimSlugsAtRegistration"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
    ]
    resources = [aws_dynamodb_table.slugs.arn]
  }

  # The expiry sweep finds unfinished registrations: claims are keyed by
  # slug, so finding the pending ones is a Scan of this table only.
  statement {
    sid       = "FindUnfinishedRegistrations"
    actions   = ["dynamodb:Scan"]
    resources = [aws_dynamodb_table.slugs.arn]
  }

  # Platform-admin listing spans every tenant by definition; a LeadingKeys
  # condition cannot express "all partitions". Scan on this table only; the
  # service allows it to platform-admin callers only.
  statement {
    sid       = "ListTenantsForPlatformAdmins"
    actions   = ["dynamodb:Scan"]
    resources = [module.service.table_arn]
  }

  # Registration asks the users service to create the first admin (Cognito
  # user + membership), a suspension asks it to end the tenant's sessions,
  # and offboarding asks the users and notes services to erase the tenant's
  # records: each table is written only by its owning service, and Lambda
  # invocation has no tenant dimension to scope on. These two functions only.
  statement {
    sid     = "AskUsersAndNotesServices"
    actions = ["lambda:InvokeFunction"]
    resources = [
      "${local.function_arn_prefix}:${local.users_function_name}",
      "${local.function_arn_prefix}:${local.notes_function_name}",
    ]
  }

  # Every platform-admin action checks the caller's platform-admin group as
  # the pool has it now (a token's groups are as old as the token). Reads of
  # one user only, on this pool only.
  statement {
    sid = "ConfirmPlatformAdminsInThePool"
    actions = [
      "cognito-idp:AdminGetUser",
      "cognito-idp:AdminListGroupsForUser",
    ]
    resources = [var.platform.user_pool_arn]
  }
}

# --- The function's schedules ----------------------------------------------------
# EventBridge invokes the function with an internal command, the only payload
# besides API Gateway's that it takes (see src/entrypoint.rs):
# - registration-sweep: registrations left unfinished past
#   registration_expiry_seconds are removed (first admin, membership, slug
#   claim), which frees their slug and email;
# - events-sweep: lifecycle events still waiting in an outbox (the bus was
#   down, or a function stopped between its write and the publication) are
#   published, tenant by tenant;
# - offboarding-sweep: tenants whose closure grace period is over are erased,
#   and erasures a request left unfinished go on.
locals {
  schedules = {
    registration-sweep = {
      description  = "Removes registrations left unfinished past their expiry."
      schedule     = var.registration.sweep_schedule
      command      = "expire_registrations"
      statement_id = "RegistrationSweepSchedule"
    }
    events-sweep = {
      description  = "Publishes lifecycle events still waiting in the tenants' outboxes."
      schedule     = "rate(5 minutes)"
      command      = "publish_events"
      statement_id = "EventsSweepSchedule"
    }
    offboarding-sweep = {
      description  = "Erases offboarding tenants that are due, and finishes unfinished erasures."
      schedule     = var.offboarding.sweep_schedule
      command      = "finish_offboarding"
      statement_id = "OffboardingSweepSchedule"
    }
  }
}

resource "aws_cloudwatch_event_rule" "schedule" {
  for_each = local.schedules

  name                = "${local.name_prefix}-tenants-${each.key}"
  description         = each.value.description
  schedule_expression = each.value.schedule
  tags                = merge(var.tags, { service = "tenants" })
}

resource "aws_cloudwatch_event_target" "schedule" {
  for_each = local.schedules

  rule  = aws_cloudwatch_event_rule.schedule[each.key].name
  arn   = module.service.function_arn
  input = jsonencode({ internal = { command = each.value.command } })
}

resource "aws_lambda_permission" "schedule" {
  for_each = local.schedules

  statement_id  = each.value.statement_id
  action        = "lambda:InvokeFunction"
  function_name = module.service.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule[each.key].arn
}

# Where earlier versions of this module kept these objects.
moved {
  from = aws_cloudwatch_event_rule.registration_sweep
  to   = aws_cloudwatch_event_rule.schedule["registration-sweep"]
}

moved {
  from = aws_cloudwatch_event_target.registration_sweep
  to   = aws_cloudwatch_event_target.schedule["registration-sweep"]
}

moved {
  from = aws_lambda_permission.registration_sweep
  to   = aws_lambda_permission.schedule["registration-sweep"]
}

moved {
  from = module.audit_table
  to   = module.record_table["audit"]
}

moved {
  from = aws_iam_role_policy.execution_extra
  to   = module.service.aws_iam_role_policy.execution[0]
}

moved {
  from = aws_dynamodb_table.tenants
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
