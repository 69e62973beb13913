locals {
  service = "notes"
}

module "service" {
  source = "../modules/notes"

  platform     = module.platform.platform
  package_path = var.package_path
}

moved {
  from = module.notes
  to   = module.service
}
