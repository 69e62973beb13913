# Partial configuration: bucket, region and locking come from a backend file
# (terraform/backend/*.s3.tfbackend); the key is fixed per root.
terraform {
  backend "s3" {
    key = "platform/terraform.tfstate"
  }
}
