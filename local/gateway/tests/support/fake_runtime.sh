#!/usr/bin/env bash
# A Lambda function for the gateway's tests: a runtime speaking the Lambda
# Runtime API with curl. What it does depends on the event's content:
#   CRASH-ME  exit mid-invocation        HANG-ME   never answer
#   FAIL-ME   post an invocation error   SLEEP-ME  answer after 0.5 s
#   ENV-ME    answer with some of its environment
#   LOG-ME    write a line to stdout and one to stderr, then answer
#   "triggerSource":"TokenGeneration_..."  answer as a pre-token-generation trigger (V2): adds
#             tenant_id=tenant-<user>; user "blocked-user" gets an error
#   anything else: {"pid": <pid>, "event": <event>}
# FAKE_INIT_ERROR=1 in the environment: report an init error and exit.
set -u
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
if [ -n "${FAKE_INIT_ERROR:-}" ]; then
  curl -sS -o /dev/null -X POST "$api/init/error" -d '{"errorMessage":"init broke","errorType":"Runtime.InitError"}'
  exit 1
fi
hdrs=$(mktemp)
trap 'rm -f "$hdrs"' EXIT
respond() { curl -sS -o /dev/null -X POST "$api/invocation/$id/response" -H 'content-type: application/json' --data-binary "$1"; }
while true; do
  event=$(curl -sS -D "$hdrs" "$api/invocation/next") || exit 2
  id=$(awk -F': ' 'tolower($1)=="lambda-runtime-aws-request-id"{print $2}' "$hdrs" | tr -d '\r')
  case "$event" in
    *CRASH-ME*) exit 3 ;;
    *HANG-ME*) sleep 60 ;;
    *FAIL-ME*)
      curl -sS -o /dev/null -X POST "$api/invocation/$id/error" -H 'Lambda-Runtime-Function-Error-Type: Boom' \
        -d '{"errorMessage":"boom","errorType":"Boom"}' ;;
    *SLEEP-ME*) sleep 0.5; respond "{\"pid\":$$}" ;;
    *LOG-ME*) echo "out from $$"; echo "err from $$" >&2; respond "{\"pid\":$$}" ;;
    *ENV-ME*)
      respond "{\"pid\":$$,\"name\":\"${AWS_LAMBDA_FUNCTION_NAME:-}\",\"version\":\"${AWS_LAMBDA_FUNCTION_VERSION:-}\",\"memory\":\"${AWS_LAMBDA_FUNCTION_MEMORY_SIZE:-}\",\"region\":\"${AWS_REGION:-}\",\"handler\":\"${_HANDLER:-}\",\"task_root\":\"${LAMBDA_TASK_ROOT:-}\",\"endpoint\":\"${AWS_ENDPOINT_URL:-}\",\"lambda_endpoint\":\"${AWS_ENDPOINT_URL_LAMBDA:-}\",\"key\":\"${AWS_ACCESS_KEY_ID:-}\",\"has_session_token\":\"${AWS_SESSION_TOKEN:+yes}\",\"greeting\":\"${GREETING:-}\"}" ;;
    *'"triggerSource":"TokenGeneration_'*)
      user=$(printf '%s' "$event" | sed -n 's/.*"userName":"\([^"]*\)".*/\1/p')
      source=$(printf '%s' "$event" | sed -n 's/.*"triggerSource":"\([^"]*\)".*/\1/p')
      if [ "$user" = blocked-user ]; then
        curl -sS -o /dev/null -X POST "$api/invocation/$id/error" -d '{"errorMessage":"membership disabled","errorType":"Forbidden"}'
      else
        respond "{\"response\":{\"claimsAndScopeOverrideDetails\":{\"idTokenGeneration\":{\"claimsToAddOrOverride\":{\"tenant_id\":\"tenant-$user\",\"seen_source\":\"$source\"},\"claimsToSuppress\":[]},\"accessTokenGeneration\":{\"claimsToAddOrOverride\":{\"tenant_id\":\"tenant-$user\",\"seen_source\":\"$source\"},\"claimsToSuppress\":[],\"scopesToAdd\":[],\"scopesToSuppress\":[]}}}}"
      fi ;;
    *) respond "{\"pid\":$$,\"event\":$event}" ;;
  esac
done
