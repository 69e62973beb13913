terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration: see terraform/backend/.
  backend "s3" {
    key = "tenants/terraform.tfstate"
  }
}

# Identical for AWS and the local stack (see terraform/platform/versions.tf).
provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project = var.project
      env     = var.env
      service = "tenants"
    }
  }
}
