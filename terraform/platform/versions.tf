terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration: bucket, region and locking come from a backend file
  # (terraform/backend/*.s3.tfbackend); the key is fixed per root.
  backend "s3" {
    key = "platform/terraform.tfstate"
  }
}

# Identical for AWS and the local stack: the local stack only exports
# AWS_ENDPOINT_URL and dummy credentials, which the provider honours.
provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project = var.project
      env     = var.env
      service = "platform"
    }
  }
}
