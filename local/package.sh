#!/usr/bin/env bash
# Packages host-built function binaries as Lambda zips for the local stack:
#   local/package.sh PROFILE_DIR OUT_DIR BIN...
# e.g. local/package.sh target/debug target/lambda-local notes
# writes target/lambda-local/notes/bootstrap.zip holding `bootstrap`, the
# binary stripped of debug info. The zip is byte-for-byte reproducible (fixed
# timestamps, no extra attributes), so an unchanged binary never shows up as a
# change in `terraform plan`. AWS artifacts are built by `make build`
# (cargo-lambda, arm64) instead.
set -euo pipefail

profile_dir=$1 out_dir=$2
shift 2
for bin in "$@"; do
  src="$profile_dir/$bin"
  [[ -x $src ]] || { echo "package.sh: $src is missing; build it first" >&2; exit 1; }
  stage="$out_dir/$bin"
  mkdir -p "$stage"
  strip --strip-debug -o "$stage/bootstrap" "$src"
  chmod 0755 "$stage/bootstrap"
  touch -d '2000-01-01 00:00:00 UTC' "$stage/bootstrap"
  rm -f "$stage/bootstrap.zip"
  (cd "$stage" && TZ=UTC zip -q -X bootstrap.zip bootstrap)
  echo "packaged $stage/bootstrap.zip ($(du -h "$stage/bootstrap.zip" | cut -f1))"
done
