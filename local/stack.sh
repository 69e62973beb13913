#!/usr/bin/env bash
# The local stack: the emulator (moto), the Terraform roots applied to it
# (terraform/roots.py, the same code that deploys to AWS) and the gateway.
#
#   local/stack.sh up             start moto (unless running), apply the roots
#   local/stack.sh plan           plan the roots; exit 2 if any root has changes
#   local/stack.sh down           stop the gateway, its functions and our moto
#   local/stack.sh status         is moto up, and what each root's state holds
#   local/stack.sh gateway-start  the local gateway in the background, on
#                                 GATEWAY_LISTEN, serving GATEWAY_PACKAGES
#   local/stack.sh gateway-stop
#   local/stack.sh cli-config     `saas configure` arguments for this stack
#
# Settings (environment): MOTO_PORT (5055), GATEWAY_LISTEN (127.0.0.1:4000),
# MOTO_PYTHON, ROOTS or SERVICE (a subset of the roots), the <FN>_PACKAGE
# overrides (terraform/roots.py), SAAS_PLATFORM_VAR_FILE (one more -var-file
# for the platform root). Stacks on different MOTO_PORTs run side by side.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$repo/.local
export MOTO_PORT=${MOTO_PORT:-5055}
GATEWAY_LISTEN=${GATEWAY_LISTEN:-127.0.0.1:4000}
issuer=http://$GATEWAY_LISTEN/cognito
gateway_bin=${GATEWAY_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/local-gateway}
moto_python=${MOTO_PYTHON:-$repo/.venv/bin/python}
moto_url=http://127.0.0.1:$MOTO_PORT
moto_pid_file=$work/moto-$MOTO_PORT.pid
gateway_pid_file=$work/gateway-$MOTO_PORT.pid
# The gateway's folder, per listening port: function code and logs, its log,
# its operator secret.
gateway_dir=$work/gateway-${GATEWAY_LISTEN##*:}
state_bucket=saas-local-tfstate # as in terraform/backend/local.s3.tfbackend

log() { printf '[stack] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
answers() { curl -sf -o /dev/null --max-time 2 "$1"; }
moto_answers() { answers "$moto_url/moto-api/"; }
gateway_answers() { answers "http://$GATEWAY_LISTEN/cognito/.well-known/jwks.json"; }

# The pid in $1 if that process is still alive and its command line matches $2.
live_pid() {
  local pid
  [[ -f $1 ]] && pid=$(<"$1") && [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2" && echo "$pid"
}

# Waits up to $1 tenths of a second for `$2...` to succeed while pid $3 lives.
wait_for() {
  local tries=$1 check=$2 pid=$3 i
  for ((i = 0; i < tries; i++)); do
    $check && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# TERM, then KILL (the process group too) after five seconds.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

# The Terraform roots on the emulator (terraform/roots.py), with what only
# the local stack adds: the emulator's environment, its state bucket, and the
# gateway's issuer as the one the JWT authorizer trusts.
roots() {
  local args=(--env local --backend "$repo/terraform/backend/local.s3.tfbackend" --arch x86_64
    --var "platform:jwt_issuer=$issuer")
  if [[ -n ${SAAS_PLATFORM_VAR_FILE:-} ]]; then args+=(--var-file "platform:$SAAS_PLATFORM_VAR_FILE"); fi
  (set -a && source "$repo/local/emulator.env" && unset AWS_PROFILE AWS_SESSION_TOKEN &&
    exec python3 "$repo/terraform/roots.py" "$@" "${args[@]}" --roots "${ROOTS:-${SERVICE:-}}")
}

cmd_up() {
  mkdir -p "$work"
  if moto_answers; then
    log "moto already answers on $moto_url"
  else
    [[ -x $moto_python ]] || die "$moto_python not found: run 'make tools' (or set MOTO_PYTHON)"
    # setsid: the server must outlive the shell (and make) that started it.
    setsid "$moto_python" "$repo/local/moto_serialized.py" -H 127.0.0.1 -p "$MOTO_PORT" \
      >"$work/moto-$MOTO_PORT.log" 2>&1 </dev/null &
    echo $! >"$moto_pid_file"
    wait_for 100 moto_answers $! || { cat "$work/moto-$MOTO_PORT.log" >&2; die "the emulator did not start"; }
    log "moto up on $moto_url (pid $!)"
  fi
  curl -sf -o /dev/null -X PUT "$moto_url/$state_bucket" || die "cannot create the state bucket"
  roots apply
  log "stack up: $moto_url"
}

cmd_plan() {
  moto_answers || die "moto is not running on $moto_url: run '$0 up'"
  roots plan
}

cmd_status() {
  if ! moto_answers; then log "moto: down"; return; fi
  log "moto: up on $moto_url (pid $(live_pid "$moto_pid_file" moto_serialized || echo "not started by stack.sh"))"
  roots status
}

# The gateway in the background (make test, make demo); `make dev` follows it.
# It reads what the stack deployed, so it starts after `up`.
cmd_gateway_start() {
  moto_answers || die "the emulator is not running on $moto_url: run '$0 up' first"
  [[ -x $gateway_bin ]] || die "$gateway_bin not found: cargo build -p local-gateway"
  gateway_answers && die "something already answers on $GATEWAY_LISTEN"
  mkdir -p "$gateway_dir"
  setsid "$gateway_bin" --emulator "$moto_url" --listen "$GATEWAY_LISTEN" --issuer "$issuer" \
    --work-dir "$gateway_dir" --packages "${GATEWAY_PACKAGES:-$repo/target/lambda-local}" \
    >"$gateway_dir/gateway.log" 2>&1 </dev/null &
  echo $! >"$gateway_pid_file"
  wait_for 200 gateway_answers $! || { cat "$gateway_dir/gateway.log" >&2; die "the gateway did not start"; }
  log "gateway up on http://$GATEWAY_LISTEN (pid $!)"
}

# The gateway stops its function instances itself.
cmd_gateway_stop() {
  local pid
  if pid=$(live_pid "$gateway_pid_file" local-gateway); then
    stop_pid "$pid"
    log "gateway (pid $pid) stopped"
  fi
  rm -f "$gateway_pid_file"
}

# A `saas` profile for this stack (make cli-config): the gateway's URLs, the
# app client the platform created, the operator secret for `saas mailbox`.
cmd_cli_config() {
  moto_answers || die "the emulator is not running on $moto_url: run '$0 up' first"
  local client_id
  client_id=$(ROOTS=platform roots output platform app_client_id) || die "is the platform applied ('$0 up')?"
  echo "--endpoint http://$GATEWAY_LISTEN --cognito-endpoint $issuer --region us-east-1" \
    "--client-id $client_id --local-operator-secret-file $gateway_dir/operator-secret"
}

# Function instances whose gateway was killed outright live on as orphans;
# stop those of this checkout's code.
stop_orphaned_functions() {
  local proc cwd n=0
  for proc in /proc/[0-9]*; do
    cwd=$(readlink "$proc/cwd" 2>/dev/null) || continue
    [[ $cwd == "$work/gateway-"*/functions/* ]] || continue
    grep -q '^PPid:[[:space:]]*1$' "$proc/status" 2>/dev/null || continue
    kill -KILL "${proc#/proc/}" 2>/dev/null && n=$((n + 1))
  done
  if ((n > 0)); then log "$n orphaned function instance(s) stopped"; fi
}

cmd_down() {
  cmd_gateway_stop
  stop_orphaned_functions
  local pid
  if pid=$(live_pid "$moto_pid_file" "moto_serialized.py .*-p $MOTO_PORT\b"); then
    stop_pid "$pid"
    log "moto (pid $pid) stopped"
  elif moto_answers; then
    log "something answers on $moto_url but was not started by stack.sh: left alone"
  else
    log "moto not running"
  fi
  # The state was in moto's memory: the local working data is stale now.
  rm -rf "$moto_pid_file" "$work/tf/local-$MOTO_PORT"
}

case ${1:-} in
  up) cmd_up ;;
  plan) cmd_plan ;;
  down) cmd_down ;;
  status) cmd_status ;;
  gateway-start) cmd_gateway_start ;;
  gateway-stop) cmd_gateway_stop ;;
  cli-config) cmd_cli_config ;;
  *) echo "usage: $0 up|plan|down|status|gateway-start|gateway-stop|cli-config" >&2; exit 64 ;;
esac
