# Every root links this file in (ln -s ../shared/root.tf), so the versions,
# the settings all roots take and the provider are written once. A root names
# itself in `local.service`, which tags everything it creates.
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

variable "project" {
  description = "Project name, first part of resource names and of the SSM parameter path; the same in every root."
  type        = string
  default     = "saas"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,15}$", var.project))
    error_message = "project must be 2-16 lowercase letters or digits, starting with a letter."
  }
}

variable "env" {
  description = "Environment name, e.g. local, dev, prod; the same in every root."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.env))
    error_message = "env must be 2-12 lowercase letters or digits, starting with a letter (local, dev, prod, ...)."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

# Identical for AWS and the local stack: the local stack only exports
# AWS_ENDPOINT_URL and dummy credentials, which the provider honours.
provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project = var.project
      env     = var.env
      service = local.service
    }
  }
}
