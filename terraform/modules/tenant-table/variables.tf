variable "name" {
  description = "Name of the table."
  type        = string
}

variable "expiry_attribute" {
  description = "The TTL attribute (epoch seconds), or null for a table whose items never expire."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Protect the table against deletion."
  type        = bool
}

variable "tenant_access" {
  description = "The tenant role's inline policy on the table: its name and statement id, the role, and the item actions (without the dynamodb: prefix)."
  type = object({
    policy_name  = string
    statement_id = string
    role_name    = string
    actions      = list(string)
  })
}

variable "tags" {
  description = "Tags of the table (provider default_tags still apply)."
  type        = map(string)
  default     = {}
}
