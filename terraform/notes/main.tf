module "platform" {
  source = "../modules/platform-parameters"

  project = var.project
  env     = var.env
  service = "notes"
}

module "notes" {
  source = "../modules/notes"

  platform     = module.platform.platform
  package_path = var.package_path
}
