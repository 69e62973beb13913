resource "aws_cognito_user_pool" "this" {
  name                     = "${local.name_prefix}-users"
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = var.deletion_protection ? "ACTIVE" : "INACTIVE"

  # Users exist only through the services (registration, invitations): no
  # self sign-up with the public app client id, so nobody can take an email
  # address before its owner is registered or invited.
  admin_create_user_config {
    allow_admin_create_user_only = true

    # An invitation without a temporary password from the admin: Cognito
    # makes one and emails it with the username.
    invite_message_template {
      email_subject = var.user_messages.invitation_subject
      email_message = var.user_messages.invitation_message
    }
  }

  # The code for a forgotten password (ForgotPassword) or an admin's reset
  # (AdminResetUserPassword); ConfirmForgotPassword takes it.
  verification_message_template {
    default_email_option = "CONFIRM_WITH_CODE"
    email_subject        = var.user_messages.code_subject
    email_message        = var.user_messages.code_message
  }

  email_configuration {
    email_sending_account  = var.email_sending.account
    source_arn             = var.email_sending.ses_source_arn
    from_email_address     = var.email_sending.from_address
    reply_to_email_address = var.email_sending.reply_to_address
    configuration_set      = var.email_sending.configuration_set
  }

  # The V2_0 pre-token-generation event (claims in the access token too)
  # needs the Essentials tier or higher. null leaves the tier to Cognito
  # (Essentials for new pools): provider 5.100 does not send the tier on
  # CreateUserPool anyway, only on UpdateUserPool, and moto reports no tier
  # for a pool created without one (see terraform/platform/local.tfvars).
  user_pool_tier = var.user_pool_tier

  lambda_config {
    pre_token_generation_config {
      lambda_arn     = module.token_claims.function_arn
      lambda_version = "V2_0"
    }
  }

  # The user's tenant, a UUID: set once by the users service (AdminCreateUser,
  # execution role) and immutable afterwards; the app client cannot write it
  # (write_attributes below). The trigger uses it only to find the membership
  # (tenant_id, user#<sub>) and the tenant record, and fails sign-in when
  # either is missing, disabled or suspended.
  schema {
    name                     = "tenant_id"
    attribute_data_type      = "String"
    mutable                  = false
    required                 = false
    developer_only_attribute = false

    string_attribute_constraints {
      min_length = 36
      max_length = 36
    }
  }

  username_configuration {
    case_sensitive = false
  }

  # The same policy reaches the functions (PASSWORD_POLICY), which refuse a
  # weak password before they write anything.
  password_policy {
    minimum_length                   = var.password_policy.minimum_length
    require_lowercase                = var.password_policy.require_lowercase
    require_uppercase                = var.password_policy.require_uppercase
    require_numbers                  = var.password_policy.require_numbers
    require_symbols                  = var.password_policy.require_symbols
    temporary_password_validity_days = 7
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  tags = local.tags
}

# Tenant membership never lives in user-writable attributes: the pre-token
# trigger adds tenant claims from the service tables, and the client below may
# write standard attributes only (never custom:*). It may read custom:tenant_id.
resource "aws_cognito_user_pool_client" "app" {
  name         = "${local.name_prefix}-app"
  user_pool_id = aws_cognito_user_pool.this.id

  generate_secret               = false
  prevent_user_existence_errors = "ENABLED"
  # RevokeToken (sign-out) and AdminUserGlobalSignOut (disable, remove,
  # suspend) end refresh tokens.
  enable_token_revocation = true

  access_token_validity  = var.token_validity.access_minutes
  id_token_validity      = var.token_validity.id_minutes
  refresh_token_validity = var.token_validity.refresh_days
  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
  explicit_auth_flows = [
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_SRP_AUTH",
  ]

  read_attributes = ["email", "email_verified", "name", "custom:tenant_id"]
  # Not email either: it is the sign-in name and the key of the user's
  # membership, and a user changing it could take (unverified) an address
  # someone is about to be invited or registered with.
  write_attributes = ["name"]
}

resource "aws_cognito_user_group" "platform_admin" {
  name         = "platform-admin"
  user_pool_id = aws_cognito_user_pool.this.id
  description  = "Operators of the SaaS itself (tenant list, suspend, reactivate)."
}
