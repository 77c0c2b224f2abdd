#!/bin/sh
# Image entrypoint: secrets arrive as files (compose secrets, Kubernetes secret volumes), but Dagster's
# `{env: DAGSTER_PG_PASSWORD}`, openlineage-python and the platform's access key are read from plain
# environment variables. For each NAME below, NAME_FILE is read into NAME before the command starts.
# CITY_S3_SECRET_KEY_FILE is not in the list: the platform settings read that file themselves.
set -eu

for name in DAGSTER_PG_PASSWORD CITY_S3_ACCESS_KEY OPENLINEAGE_API_KEY; do
  eval "file=\${${name}_FILE:-}"
  [ -n "$file" ] || continue
  eval "already=\${${name}:-}"
  if [ -n "$already" ]; then
    echo "entrypoint: both $name and ${name}_FILE are set; set only one" >&2
    exit 64
  fi
  if [ ! -r "$file" ]; then
    echo "entrypoint: ${name}_FILE=$file is not a readable file" >&2
    exit 66
  fi
  value="$(cat "$file")"
  export "$name=$value"
  unset "${name}_FILE"
done

# Pool limits live in the instance's database, not in dagster.yaml: CITY_POOL_LIMITS="warehouse=1
# vision=2" (the daemon's container) sets them before the command starts. Setting one again is a no-op.
for pair in ${CITY_POOL_LIMITS:-}; do
  pool="${pair%%=*}"
  limit="${pair#*=}"
  case "$pool:$limit" in
    :* | *:*[!0-9]* | *:)
      echo "entrypoint: CITY_POOL_LIMITS entry '$pair' is not <pool>=<limit>" >&2
      exit 64
      ;;
  esac
  dagster instance concurrency set "$pool" "$limit"
done

exec "$@"
