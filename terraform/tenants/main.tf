module "platform" {
  source = "../modules/platform-parameters"

  project = var.project
  env     = var.env
  service = "tenants"
}

# Registration invokes "<project>-<env>-users" by name: apply the users root
# before this one (the grant itself does not need the function to exist).
module "tenants" {
  source = "../modules/tenants"

  platform     = module.platform.platform
  package_path = var.package_path

  registration = {
    expiry_seconds = var.registration_expiry_seconds
    sweep_schedule = var.registration_sweep_schedule
  }
}
