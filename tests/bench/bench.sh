#!/usr/bin/env bash
# make bench: measure, then write BENCHMARKS.md (tests/bench/README.md).
#
#   1. criterion hot-path benches and the percentile sampler (libs/tenancy/benches)
#   2. a local stack of its own (MOTO_PORT, GATEWAY_LISTEN; never the defaults
#      of make test) running the release zips of `make build` for this
#      machine's architecture, always taken down again
#   3. stack-bench load: cold starts, warm load, STS traffic, CPU, memory
#   4. stack-bench report: BENCHMARKS.md (+ .local/bench/results.json)
#
# BENCH_SKIP_MICRO=1 skips step 1 (reuses its last results); BENCH_RUNS,
# BENCH_TENANTS, BENCH_*_REQUESTS, BENCH_CONCURRENCY size step 3 (stack-bench load --help).
#
# Expects `make build` (zips) and the venv (moto) to be there: `make bench` does both.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
export MOTO_PORT=${MOTO_PORT:-5355}
export GATEWAY_LISTEN=${GATEWAY_LISTEN:-127.0.0.1:4300}
export LOCAL_GATEWAY_ISSUER=http://$GATEWAY_LISTEN/cognito
# Where local/stack.sh's gateway writes its operator secret (stack-bench reads it).
export LOCAL_GATEWAY_OPERATOR_SECRET_FILE=$repo/.local/gateway-${GATEWAY_LISTEN##*:}/operator-secret
export MOTO_PYTHON=${MOTO_PYTHON:-$repo/.venv/bin/python}
target=${CARGO_TARGET_DIR:-$repo/target}
out=$repo/.local/bench
mkdir -p "$out"

case $(uname -m) in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "bench: no Lambda architecture for $(uname -m)" >&2; exit 1 ;;
esac
# BENCH_ZIPS: another folder of <fn>/bootstrap.zip to run (e.g. an earlier build, for a before/after).
zips=${BENCH_ZIPS:-$repo/target/lambda/$arch}
for fn in notes users tenants token-claims; do
  [[ -f $zips/$fn/bootstrap.zip ]] || { echo "bench: $zips/$fn/bootstrap.zip missing: make build" >&2; exit 1; }
done

log() { printf '[bench] %s\n' "$*" >&2; }

log "building the gateway and the load driver"
cargo build --quiet -p local-gateway -p stack-bench
# Private copies: target/ is shared, another build may replace the binaries meanwhile.
mkdir -p "$out/bin"
cp "$target/debug/local-gateway" "$target/debug/stack-bench" "$out/bin/"
export GATEWAY_BIN=$out/bin/local-gateway

p99_files=()
if [[ -n ${BENCH_SKIP_MICRO:-} ]]; then
  log "BENCH_SKIP_MICRO set: reusing the last criterion and sampler results"
  p99_files=("$out"/p99-*.json)
else
  log "criterion: libs/tenancy/benches/hot_path.rs, local/gateway/benches/jwt_verify.rs"
  cargo bench --quiet -p tenancy --bench hot_path
  cargo bench --quiet -p local-gateway --bench jwt_verify
  for run in 1 2 3; do
    log "percentile sampler, run $run of 3"
    BENCH_P99_OUT=$out/p99-$run.json cargo bench --quiet -p tenancy --bench overhead_p99
    p99_files+=("$out/p99-$run.json")
  done
fi

# The stack: release zips of this architecture, deployed and served.
export NOTES_PACKAGE=$zips/notes/bootstrap.zip USERS_PACKAGE=$zips/users/bootstrap.zip \
  TENANTS_PACKAGE=$zips/tenants/bootstrap.zip TOKEN_CLAIMS_PACKAGE=$zips/token-claims/bootstrap.zip
export GATEWAY_PACKAGES=$zips
# The stage's throttle (enforced by the gateway) at AWS's account-level
# defaults: the load here measures the functions, not the 50 requests per
# second per route a stage gets by default.
export TF_VAR_throttling_burst_limit=${BENCH_THROTTLING_BURST_LIMIT:-5000}
export TF_VAR_throttling_rate_limit=${BENCH_THROTTLING_RATE_LIMIT:-10000}
# The authority freshness window AWS runs with (local.tfvars shortens it for
# the end-to-end tests), so the authority reads counted are the deployed cost.
export SAAS_PLATFORM_VAR_FILE=$out/platform.tfvars
echo "authority_freshness_seconds = ${BENCH_AUTHORITY_FRESHNESS_SECONDS:-10}" >"$SAAS_PLATFORM_VAR_FILE"
trap 'local/stack.sh down' EXIT
log "bringing a stack up on moto port $MOTO_PORT, gateway $GATEWAY_LISTEN (log: $out/up.log)"
local/stack.sh down >/dev/null 2>&1 || true
local/stack.sh up >"$out/up.log" 2>&1 || { tail -n 40 "$out/up.log" >&2; exit 1; }
local/stack.sh gateway-start
(set -a && source local/emulator.env && LOCAL_GATEWAY_URL=http://$GATEWAY_LISTEN \
  exec "$out/bin/stack-bench" load --out "$out/stack.json")
local/stack.sh down
trap - EXIT

log "writing BENCHMARKS.md"
"$out/bin/stack-bench" report \
  --stack "$out/stack.json" --p99 "${p99_files[@]}" --criterion "$target/criterion" \
  --zips "$repo/target/lambda" --lockfile "$repo/Cargo.lock" \
  --baseline "$repo/tests/bench/baseline.json" --analysis "$repo/tests/bench/analysis.md" \
  --results "$out/results.json" --out "$repo/BENCHMARKS.md" \
  --fact "moto=$("$MOTO_PYTHON" -c 'import moto; print(moto.__version__)')" \
  --fact "functions run=release zips of make build ($arch)" \
  --fact "gateway and load driver=debug builds"
log "BENCHMARKS.md written (figures: $out/results.json)"
