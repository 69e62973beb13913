variable "policy_name" {
  description = "Name of the inline policy on the tenant role, e.g. notes-tenant-data."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]+-tenant-data$", var.policy_name))
    error_message = "policy_name must be <service>-tenant-data."
  }
}

variable "statement_id" {
  description = "Sid of the statement (CamelCase, explains what it grants)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9]+$", var.statement_id))
    error_message = "statement_id must be alphanumeric."
  }
}

variable "tenant_role_name" {
  description = "Name of the platform's tenant role."
  type        = string
}

variable "table_arns" {
  description = "ARNs of the tables (or indexes) the service keeps tenant data in. Explicit ARNs only."
  type        = list(string)

  validation {
    condition     = length(var.table_arns) > 0 && alltrue([for arn in var.table_arns : !endswith(arn, "*")])
    error_message = "table_arns must name tables explicitly: no wildcards."
  }
}

variable "actions" {
  description = "DynamoDB item actions the service needs, without the dynamodb: prefix. Never Scan."

  type = list(string)

  validation {
    condition = length(var.actions) > 0 && alltrue([
      for action in var.actions : contains(
        ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem", "BatchWriteItem", "ConditionCheckItem"],
        action
      )
    ])
    error_message = "actions must be tenant-keyed item actions (GetItem, PutItem, UpdateItem, DeleteItem, Query, BatchGetItem, BatchWriteItem, ConditionCheckItem); never Scan."
  }
}
