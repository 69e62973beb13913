data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  tags       = merge(var.tags, { service = "platform" })

  jwt_issuer   = coalesce(var.jwt_issuer, "https://cognito-idp.${local.region}.amazonaws.com/${aws_cognito_user_pool.this.id}")
  jwt_audience = coalesce(var.jwt_audience, [aws_cognito_user_pool_client.app.id])
}
