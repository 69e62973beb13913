locals {
  service = "tenants"
}

# Registration and offboarding invoke "<project>-<env>-users" and
# "<project>-<env>-notes" by name: apply those roots before this one (the
# grant itself does not need the functions to exist).
module "service" {
  source = "../modules/tenants"

  platform     = module.platform.platform
  package_path = var.package_path

  registration = {
    expiry_seconds = var.registration_expiry_seconds
    sweep_schedule = var.registration_sweep_schedule
  }

  offboarding = {
    closure_grace_seconds = var.closure_grace_seconds
  }
}

moved {
  from = module.tenants
  to   = module.service
}
