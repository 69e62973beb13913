# The local stack only: read by local/stack.sh for env "local".

# Short, so the end-to-end tests see an unfinished registration expire and
# its slug and email come free without waiting a day (AWS default: 86400).
registration_expiry_seconds = 20
