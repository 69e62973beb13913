# --- Lambda execution roles: one per service -------------------------------

data "aws_iam_policy_document" "lambda_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  for_each = toset(var.services)

  name               = "${local.name_prefix}-${each.key}-exec"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
  tags               = merge(local.tags, { service = each.key })
}

# The execution role reaches data only through the tenant role, and may write
# to its own function's log group (created by Terraform, hence no CreateLogGroup).
data "aws_iam_policy_document" "execution" {
  for_each = toset(var.services)

  statement {
    sid       = "AssumeTenantRole"
    actions   = ["sts:AssumeRole", "sts:TagSession"]
    resources = [aws_iam_role.tenant.arn]
  }

  statement {
    sid     = "OwnLogGroup"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${local.name_prefix}-${each.key}:*",
    ]
  }

  dynamic "statement" {
    for_each = var.xray_tracing ? [1] : []
    content {
      sid       = "XRayWrite"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  for_each = toset(var.services)

  name   = "${each.key}-execution"
  role   = aws_iam_role.execution[each.key].id
  policy = data.aws_iam_policy_document.execution[each.key].json
}

# --- The tenant role ---------------------------------------------------------
# Services assume it with session tag TenantId=<tenant>; DynamoDB access comes
# from each service module's own inline policy keyed on that principal tag.
# The role carries no permissions of its own here.

data "aws_iam_policy_document" "tenant_trust" {
  statement {
    sid     = "ServicesWithTenantTag"
    actions = ["sts:AssumeRole", "sts:TagSession"]

    principals {
      type        = "AWS"
      identifiers = [for s in var.services : aws_iam_role.execution[s].arn]
    }

    condition {
      test     = "Null"
      variable = "aws:RequestTag/TenantId"
      values   = ["false"]
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = ["TenantId"]
    }
  }
}

resource "aws_iam_role" "tenant" {
  name                 = "${local.name_prefix}-tenant"
  description          = "Tenant-scoped data access; assumed by service execution roles with session tag TenantId."
  assume_role_policy   = data.aws_iam_policy_document.tenant_trust.json
  max_session_duration = var.tenant_session_duration
  tags                 = local.tags
}
