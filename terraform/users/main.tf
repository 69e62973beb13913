module "platform" {
  source = "../modules/platform-parameters"

  project = var.project
  env     = var.env
  service = "users"
}

module "users" {
  source = "../modules/users"

  platform     = module.platform.platform
  package_path = var.package_path
}
