# The local stack (moto) only: read by local/stack.sh for env "local".
#
# Provider 5.100 does not send user_pool_tier on CreateUserPool (only on
# UpdateUserPool), so a new pool gets Cognito's default tier, which on AWS is
# ESSENTIALS and reads back as such. moto reports no tier for such a pool, so
# "ESSENTIALS" would show as a change on every plan, and applying it makes
# moto's UpdateUserPool reset the pool's other settings (username attributes,
# tags), after which Terraform wants to replace the pool. null = unmanaged
# (attribute is optional + computed), so the local plan stays clean.
user_pool_tier = null

# The local stack is torn down and rebuilt all the time.
deletion_protection = false

# A short window, so the end-to-end tests see a suspension, a disabled
# member or a tier change take effect without waiting long (AWS default: 10).
authority_freshness_seconds = 2
