# One customer-managed key for every CloudWatch log group of this platform
# (API access logs and each function's logs, services included: they read its
# ARN from SSM). Logs hold tenant ids and caller IPs; with this key, reading
# them needs kms:Decrypt as well as logs:*, and the key can be disabled to
# make them unreadable. Writers (Lambda, API Gateway) need no KMS permission:
# CloudWatch Logs uses the key on their behalf, through the statement below.
resource "aws_kms_key" "logs" {
  description             = "${local.name_prefix}: CloudWatch Logs encryption"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # The account's default key statement: IAM policies decide who in
        # the account may administer or use the key.
        Sid       = "AccountAdministersThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsOfThisPlatformOnly"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = [
              "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${local.name_prefix}-*",
              "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/apigateway/${local.name_prefix}-*",
            ]
          }
        }
      },
    ]
  })

  tags = local.tags
}
