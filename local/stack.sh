#!/usr/bin/env bash
# The local stack: moto_server plus the Terraform roots applied to it.
#
#   local/stack.sh up       start moto (unless running), apply the roots in order
#                           (platform, notes, users, tenants)
#   local/stack.sh plan     plan the roots; exit 2 if any root has changes
#   local/stack.sh down     stop the gateway and the moto this script started (idempotent)
#   local/stack.sh status   is moto up, and what does each root's state hold
#   local/stack.sh deploy   apply the roots to whatever the AWS_* environment
#                           points at (make deploy: real AWS, needs BACKEND)
#   local/stack.sh validate init -backend=false + validate every root
#   local/stack.sh gateway-start | gateway-stop
#                           the local gateway (local/gateway) in the background,
#                           on GATEWAY_LISTEN (127.0.0.1:4000), serving the zips
#                           found under GATEWAY_PACKAGES (target/lambda-local)
#   local/stack.sh cli-config
#                           `saas configure` arguments for this stack (services/cli):
#                           the gateway's API and Cognito URLs, the app client id,
#                           the operator secret file (for `saas mailbox`)
#
# Settings (environment): MOTO_PORT (5055), TF_MIRROR (/opt/tf-plugins, used
# if present), one <FN>_PACKAGE per function (NOTES_PACKAGE, USERS_PACKAGE,
# TENANTS_PACKAGE, TOKEN_CLAIMS_PACKAGE; default target/lambda-local/<fn>/
# bootstrap.zip, built by `make package-local`, or target/lambda/<ARCH>/<fn>/
# bootstrap.zip for deploy, built by `make build`), ROOTS (space/comma separated subset of the roots,
# or SERVICE for one; default all, always applied in the order above), and
# for deploy: DEPLOY_ENV, BACKEND, ARCH. SAAS_PLATFORM_VAR_FILE: one more
# -var-file for the platform root, applied after <env>.tfvars (make bench).
#
# Several stacks may run side by side on different MOTO_PORTs: the pid file
# and Terraform's working data of the local stack are per port.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$repo/.local
all_roots=(platform notes users tenants)

MOTO_PORT=${MOTO_PORT:-5055}
GATEWAY_LISTEN=${GATEWAY_LISTEN:-127.0.0.1:4000}
LOCAL_GATEWAY_ISSUER=${LOCAL_GATEWAY_ISSUER:-http://$GATEWAY_LISTEN/cognito}
gateway_bin=${GATEWAY_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/local-gateway}
TF_MIRROR=${TF_MIRROR:-/opt/tf-plugins}
# moto behind a lock, one request at a time: see local/moto_serialized.py.
moto_python=${MOTO_PYTHON:-$repo/.venv/bin/python}
moto_url=http://127.0.0.1:$MOTO_PORT
pid_file=$work/moto-$MOTO_PORT.pid
legacy_pid_file=$work/moto.pid # written by earlier versions of this script
state_bucket=saas-local-tfstate # must match terraform/backend/local.s3.tfbackend

log() { printf '[stack] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

moto_answers() { curl -sf -o /dev/null --max-time 2 "$moto_url/moto-api/"; }

our_moto_pid() {
  local f pid
  for f in "$pid_file" "$legacy_pid_file"; do
    [[ -f $f ]] || continue
    pid=$(<"$f")
    # The pid file may be stale and the pid reused: check it is still moto,
    # and on this port (another stack may run on another one).
    [[ -r /proc/$pid/cmdline ]] || continue
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "moto_serialized.py .*-p $MOTO_PORT\b" || continue
    echo "$pid"
    return 0
  done
  return 1
}

# --- Roots and their function packages ------------------------------------------

# The roots selected by ROOTS (or SERVICE), in apply order, into `roots`.
select_roots() {
  local wanted=${ROOTS:-${SERVICE:-}} r w
  wanted=${wanted//,/ }
  roots=()
  if [[ -z ${wanted// /} ]]; then
    roots=("${all_roots[@]}")
    return 0
  fi
  for w in $wanted; do
    if [[ " ${all_roots[*]} " != *" $w "* ]]; then
      die "unknown root '$w' in ROOTS/SERVICE (roots: ${all_roots[*]})"
    fi
  done
  for r in "${all_roots[@]}"; do
    if [[ " $wanted " == *" $r "* ]]; then roots+=("$r"); fi
  done
}

# The function packages a root deploys, as "<terraform variable>=<function>"
# words. The only per-root knowledge in this script.
root_packages() {
  case $1 in
    platform) echo "token_claims_package=token-claims" ;; # the Cognito trigger
    notes | users | tenants) echo "package_path=$1" ;;
    *) die "no package mapping for root $1" ;;
  esac
}

# token-claims -> TOKEN_CLAIMS_PACKAGE
package_env() {
  local name=${1^^}
  echo "${name//-/_}_PACKAGE"
}

# Resolve every <FN>_PACKAGE of the selected roots to an absolute path
# (terraform -chdir resolves relative ones from the root's folder), with the
# default $1/<fn>/bootstrap.zip.
resolve_packages() {
  local dir=$1 root pair fn var
  for root in "${roots[@]}"; do
    for pair in $(root_packages "$root"); do
      fn=${pair#*=}
      var=$(package_env "$fn")
      printf -v "$var" '%s' "$(realpath -m "${!var:-$dir/$fn/bootstrap.zip}")"
    done
  done
}

check_packages() {
  local root pair var
  for root in "${roots[@]}"; do
    for pair in $(root_packages "$root"); do
      var=$(package_env "${pair#*=}")
      [[ -f ${!var} ]] || die "$var=${!var} not found: run make package-local (or make build for AWS), or set $var"
    done
  done
}

# Terraform environment shared by every command. Endpoint and credentials are
# the only difference between the local stack and AWS (see use_moto).
tf_env() {
  mkdir -p "$work"
  if [[ -d $TF_MIRROR ]]; then
    # Only the aws provider is mirrored; `direct` must exclude it, or init also
    # asks the registry for its versions and fails offline.
    cat >"$work/terraformrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$TF_MIRROR"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
EOF
    export TF_CLI_CONFIG_FILE=$work/terraformrc
  else
    export TF_PLUGIN_CACHE_DIR=${TF_PLUGIN_CACHE_DIR:-$work/tf-plugin-cache}
    mkdir -p "$TF_PLUGIN_CACHE_DIR"
  fi
  export TF_IN_AUTOMATION=1
  if [[ ! -t 1 ]]; then
    export TF_CLI_ARGS_init=-no-color TF_CLI_ARGS_plan=-no-color TF_CLI_ARGS_apply=-no-color TF_CLI_ARGS_validate=-no-color
  fi
}

use_moto() {
  export AWS_ENDPOINT_URL=$moto_url
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true
  unset AWS_PROFILE AWS_SESSION_TOKEN
  DEPLOY_ENV=local
  BACKEND=$repo/terraform/backend/local.s3.tfbackend
  ARCH=x86_64 # the local gateway runs the binaries on this host
}

# Terraform's working data per environment, under .local/ rather than in
# terraform/<root>/.terraform; the local stack's is per moto port.
tf_data() {
  if [[ $DEPLOY_ENV == local ]]; then
    echo "$work/tf/local-$MOTO_PORT"
  else
    echo "$work/tf/$DEPLOY_ENV"
  fi
}

# Run terraform in a root.
tf() {
  local root=$1; shift
  TF_DATA_DIR=$(tf_data)/$root terraform -chdir="$repo/terraform/$root" "$@"
}

tf_init() {
  local data log
  data=$(tf_data)
  log=$data/init-$1.log
  mkdir -p "$data"
  tf "$1" init -input=false -reconfigure -lockfile=readonly \
    -backend-config="$BACKEND" >"$log" 2>&1 \
    || { cat "$log" >&2; die "terraform init failed in $1"; }
}

# Per-root variables into the array tf_vars; an optional
# terraform/<root>/<env>.tfvars adds more.
set_tf_vars() {
  local root=$1 f=$repo/terraform/$1/$DEPLOY_ENV.tfvars pair var
  tf_vars=("-var=env=$DEPLOY_ENV")
  for pair in $(root_packages "$root"); do
    var=$(package_env "${pair#*=}")
    tf_vars+=("-var=${pair%%=*}=${!var}")
  done
  if [[ $root == platform ]]; then tf_vars+=("-var=architecture=$ARCH"); fi # published to the services
  if [[ -f $f ]]; then tf_vars+=("-var-file=$f"); fi
  # Last, so it overrides: e.g. make bench runs the platform's AWS defaults.
  if [[ $root == platform && -n ${SAAS_PLATFORM_VAR_FILE:-} ]]; then
    tf_vars+=("-var-file=$SAAS_PLATFORM_VAR_FILE")
  fi
  # Locally, tokens come from the local gateway's Cognito endpoint, so the JWT
  # authorizer must trust exactly its issuer (see local/gateway/README.md).
  if [[ $DEPLOY_ENV == local && $root == platform ]]; then
    tf_vars+=("-var=jwt_issuer=$LOCAL_GATEWAY_ISSUER")
  fi
}

apply_all() {
  check_packages
  local root
  for root in "${roots[@]}"; do
    log "apply $root (env $DEPLOY_ENV)"
    tf_init "$root"
    set_tf_vars "$root"
    tf "$root" apply -input=false -auto-approve "${tf_vars[@]}"
  done
}

start_moto() {
  mkdir -p "$work"
  if moto_answers; then
    log "moto already answers on $moto_url"
    return
  fi
  [[ -x $moto_python ]] || die "$moto_python not found: run 'make tools' (or set MOTO_PYTHON)"
  # setsid: the server must outlive the shell (and make) that started it.
  setsid "$moto_python" "$repo/local/moto_serialized.py" -H 127.0.0.1 -p "$MOTO_PORT" >"$work/moto-$MOTO_PORT.log" 2>&1 </dev/null &
  echo $! >"$pid_file"
  local i
  for i in $(seq 1 50); do
    moto_answers && { log "moto up on $moto_url (pid $(<"$pid_file"))"; return; }
    kill -0 "$(<"$pid_file")" 2>/dev/null || { cat "$work/moto-$MOTO_PORT.log" >&2; die "the emulator exited"; }
    sleep 0.2
  done
  die "the emulator did not answer on $moto_url within 10 s (log: $work/moto-$MOTO_PORT.log)"
}

create_state_bucket() {
  # PUT on an existing bucket is fine in us-east-1, so this is idempotent.
  curl -sf -o /dev/null -X PUT "$moto_url/$state_bucket" || die "cannot create state bucket"
}

cmd_up() {
  tf_env
  use_moto
  select_roots
  resolve_packages "$repo/target/lambda-local"
  check_packages # before starting anything
  start_moto
  create_state_bucket
  apply_all
  log "stack up: $moto_url"
}

cmd_plan() {
  tf_env
  use_moto
  select_roots
  resolve_packages "$repo/target/lambda-local"
  moto_answers || die "moto is not running on $moto_url: run '$0 up'"
  local root rc changed=()
  for root in "${roots[@]}"; do
    tf_init "$root"
    set_tf_vars "$root"
    rc=0
    tf "$root" plan -input=false -detailed-exitcode "${tf_vars[@]}" || rc=$?
    case $rc in
      0) ;;
      2) changed+=("$root") ;;
      *) die "plan failed in $root" ;;
    esac
  done
  if ((${#changed[@]})); then
    log "changes pending in: ${changed[*]}"
    exit 2
  fi
  log "no changes in: ${roots[*]}"
}

gateway_pid_file() { echo "$work/gateway-$MOTO_PORT.pid"; }
# The gateway's own folder, per listening port: extracted function code,
# function logs (logs/<function>.log), its log and its operator secret.
gateway_dir=$work/gateway-${GATEWAY_LISTEN##*:}

gateway_answers() { curl -sf -o /dev/null --max-time 2 "http://$GATEWAY_LISTEN/cognito/.well-known/jwks.json"; }

# The local gateway in the background (make test); `make dev` runs it in the
# foreground instead. It reads what the stack deployed, so start it after up.
cmd_gateway_start() {
  moto_answers || die "the emulator is not running on $moto_url: run '$0 up' first"
  [[ -x $gateway_bin ]] || die "$gateway_bin not found: cargo build -p local-gateway"
  gateway_answers && die "something already answers on $GATEWAY_LISTEN"
  mkdir -p "$gateway_dir"
  setsid "$gateway_bin" --emulator "$moto_url" --listen "$GATEWAY_LISTEN" --issuer "$LOCAL_GATEWAY_ISSUER" \
    --work-dir "$gateway_dir" --packages "${GATEWAY_PACKAGES:-$repo/target/lambda-local}" \
    >"$gateway_dir/gateway.log" 2>&1 </dev/null &
  echo $! >"$(gateway_pid_file)"
  local i
  for i in $(seq 1 100); do
    gateway_answers && { log "gateway up on http://$GATEWAY_LISTEN (pid $(<"$(gateway_pid_file)"))"; return; }
    kill -0 "$(<"$(gateway_pid_file)")" 2>/dev/null || { cat "$gateway_dir/gateway.log" >&2; die "the gateway exited"; }
    sleep 0.2
  done
  die "the gateway did not answer on $GATEWAY_LISTEN within 20 s (log: $gateway_dir/gateway.log)"
}

# Stops the gateway started by gateway-start; it stops its function instances.
cmd_gateway_stop() {
  local pid file
  file=$(gateway_pid_file)
  [[ -f $file ]] || return 0
  pid=$(<"$file")
  if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q local-gateway; then
    kill -TERM "$pid"
    local i
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"; fi
    log "gateway (pid $pid) stopped"
  fi
  rm -f "$file"
}

# A `saas` profile for this stack, as `saas configure` arguments (make
# cli-config). The app client id is the one the platform published in SSM;
# the operator secret file lets `saas mailbox` read the gateway's mailbox.
cmd_cli_config() {
  moto_answers || die "the emulator is not running on $moto_url: run '$0 up' first"
  local client_id
  client_id=$("$moto_python" -c '
import sys, boto3
ssm = boto3.client("ssm", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
print(ssm.get_parameter(Name="/saas/local/platform/app_client_id")["Parameter"]["Value"])
' "$moto_url" 2>/dev/null) \
    || die "cannot read /saas/local/platform/app_client_id from the emulator: is the platform applied ('$0 up')?"
  echo "--endpoint http://$GATEWAY_LISTEN --cognito-endpoint http://$GATEWAY_LISTEN/cognito --region us-east-1 --client-id $client_id --local-operator-secret-file $gateway_dir/operator-secret"
}

# Function instances whose gateway was killed outright (no chance to stop
# them) live on as orphans; stop those of this checkout's code.
stop_orphaned_functions() {
  local proc cwd ppid n=0
  for proc in /proc/[0-9]*; do
    cwd=$(readlink "$proc/cwd" 2>/dev/null) || continue
    [[ $cwd == "$work/gateway-"*/functions/* ]] || continue
    ppid=$(awk '/^PPid:/ {print $2}' "$proc/status" 2>/dev/null) || continue
    [[ $ppid == 1 ]] || continue
    kill -KILL "${proc#/proc/}" 2>/dev/null && n=$((n + 1))
  done
  if ((n > 0)); then log "$n orphaned function instance(s) stopped"; fi
}

cmd_down() {
  cmd_gateway_stop
  stop_orphaned_functions
  local pid
  if pid=$(our_moto_pid); then
    kill "$pid"
    local i
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    log "moto (pid $pid) stopped"
  elif moto_answers; then
    log "something answers on $moto_url but was not started by stack.sh: left alone"
  else
    log "moto not running"
  fi
  # The state was in moto's memory: the local working data is stale now.
  rm -rf "$pid_file" "$work/tf/local-$MOTO_PORT"
  if [[ -f $legacy_pid_file ]] && ! kill -0 "$(<"$legacy_pid_file")" 2>/dev/null; then
    rm -f "$legacy_pid_file"
  fi
}

cmd_status() {
  tf_env
  use_moto
  select_roots
  if ! moto_answers; then
    log "moto: down"
    return
  fi
  local pid
  pid=$(our_moto_pid) || pid="not started by stack.sh"
  log "moto: up on $moto_url (pid $pid)"
  local root
  for root in "${roots[@]}"; do
    if [[ -d $(tf_data)/$root ]]; then
      log "$root: $(tf "$root" state list 2>/dev/null | wc -l) resources in state"
    else
      log "$root: not initialised"
    fi
  done
}

cmd_deploy() {
  [[ -n ${DEPLOY_ENV:-} ]] || die "set DEPLOY_ENV (e.g. dev, prod)"
  [[ -n ${BACKEND:-} && -f $BACKEND ]] || die "set BACKEND to an S3 backend file (see terraform/backend/aws.s3.tfbackend.example)"
  [[ $DEPLOY_ENV != local ]] || die "DEPLOY_ENV=local is the emulator: use '$0 up'"
  ARCH=${ARCH:-arm64}
  # terraform -chdir resolves relative paths from the root's folder.
  BACKEND=$(realpath -m "$BACKEND")
  select_roots
  resolve_packages "$repo/target/lambda/$ARCH" # make build: target/lambda/<arch>/<fn>/bootstrap.zip
  tf_env
  apply_all
}

cmd_validate() {
  tf_env
  DEPLOY_ENV=validate
  select_roots
  local root
  for root in "${roots[@]}"; do
    tf "$root" init -input=false -backend=false -lockfile=readonly >/dev/null
    tf "$root" validate
  done
}

case ${1:-} in
  up) cmd_up ;;
  plan) cmd_plan ;;
  down) cmd_down ;;
  status) cmd_status ;;
  deploy) cmd_deploy ;;
  validate) cmd_validate ;;
  gateway-start) cmd_gateway_start ;;
  gateway-stop) cmd_gateway_stop ;;
  cli-config) cmd_cli_config ;;
  *) echo "usage: $0 up|plan|down|status|deploy|validate|gateway-start|gateway-stop|cli-config" >&2; exit 64 ;;
esac
