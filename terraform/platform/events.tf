# --- Lifecycle events ------------------------------------------------------------
# The bus the services publish a tenant's lifecycle changes on (the detail
# shapes: libs/tenancy/events.schema.json); published for the service roots
# as event_bus_name and event_bus_arn.

resource "aws_cloudwatch_event_bus" "lifecycle" {
  name = "${local.name_prefix}-lifecycle"
  tags = local.tags
}

# Every event, also into a queue: the record of what was published (and, on
# the local stack, the way to watch it: make events). Consumers add rules of
# their own.
resource "aws_sqs_queue" "lifecycle_events" {
  name                      = "${local.name_prefix}-lifecycle-events"
  message_retention_seconds = 1209600 # 14 days, SQS's longest
  sqs_managed_sse_enabled   = true
  tags                      = local.tags
}

resource "aws_cloudwatch_event_rule" "lifecycle_to_queue" {
  name           = "${local.name_prefix}-lifecycle-to-queue"
  description    = "Every lifecycle event of the platform's services, into the lifecycle-events queue."
  event_bus_name = aws_cloudwatch_event_bus.lifecycle.name
  event_pattern  = jsonencode({ source = ["saas.tenants", "saas.users"] })
  tags           = local.tags
}

resource "aws_cloudwatch_event_target" "lifecycle_to_queue" {
  rule           = aws_cloudwatch_event_rule.lifecycle_to_queue.name
  event_bus_name = aws_cloudwatch_event_bus.lifecycle.name
  arn            = aws_sqs_queue.lifecycle_events.arn
}

data "aws_iam_policy_document" "lifecycle_events_queue" {
  # Only this rule may send to the queue.
  statement {
    sid       = "LifecycleRuleSends"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.lifecycle_events.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.lifecycle_to_queue.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "lifecycle_events" {
  queue_url = aws_sqs_queue.lifecycle_events.id
  policy    = data.aws_iam_policy_document.lifecycle_events_queue.json
}
