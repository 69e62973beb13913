locals {
  service = "tenants"
}

# Registration invokes "<project>-<env>-users" by name: apply the users root
# before this one (the grant itself does not need the function to exist).
module "service" {
  source = "../modules/tenants"

  platform     = module.platform.platform
  package_path = var.package_path

  registration = {
    expiry_seconds = var.registration_expiry_seconds
    sweep_schedule = var.registration_sweep_schedule
  }
}

moved {
  from = module.tenants
  to   = module.service
}
