locals {
  service = "users"
}

module "service" {
  source = "../modules/users"

  platform     = module.platform.platform
  package_path = var.package_path
}

moved {
  from = module.users
  to   = module.service
}
