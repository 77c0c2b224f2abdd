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

exec "$@"
