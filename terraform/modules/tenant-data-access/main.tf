# The one statement that gives a service's tables to the tenant role: item
# actions on named tables, and only in the partition of the session's tenant.
# Every service module attaches its tables through this module, so the
# isolation conditions are written once.
data "aws_iam_policy_document" "this" {
  statement {
    sid       = var.access.statement_id
    actions   = [for action in var.access.actions : "dynamodb:${action}"]
    resources = var.access.table_arns

    # Every leading key is the session's tenant.
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

resource "aws_iam_role_policy" "this" {
  name   = var.access.policy_name
  role   = var.access.role_name
  policy = data.aws_iam_policy_document.this.json
}
