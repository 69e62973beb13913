variable "access" {
  description = "The tenant role's inline policy: its name (<service>-tenant-data), the statement's Sid (CamelCase, says what it grants), the tenant role's name, the tables (or indexes) by explicit ARN, and the DynamoDB item actions without the dynamodb: prefix. Never Scan."
  type = object({
    policy_name  = string
    statement_id = string
    role_name    = string
    table_arns   = list(string)
    actions      = list(string)
  })

  validation {
    condition     = can(regex("^[a-z0-9-]+-tenant-data$", var.access.policy_name))
    error_message = "access.policy_name must be <service>-tenant-data."
  }
  validation {
    condition     = can(regex("^[A-Za-z0-9]+$", var.access.statement_id))
    error_message = "access.statement_id must be alphanumeric."
  }
  validation {
    condition     = length(var.access.table_arns) > 0 && alltrue([for arn in var.access.table_arns : !endswith(arn, "*")])
    error_message = "access.table_arns must name tables explicitly: no wildcards."
  }
  validation {
    condition = length(var.access.actions) > 0 && alltrue([
      for action in var.access.actions : contains(
        ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem", "BatchWriteItem", "ConditionCheckItem"],
        action
      )
    ])
    error_message = "access.actions must be tenant-keyed item actions (GetItem, PutItem, UpdateItem, DeleteItem, Query, BatchGetItem, BatchWriteItem, ConditionCheckItem); never Scan."
  }
}
