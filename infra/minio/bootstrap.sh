#!/bin/sh
# Create the platform's buckets, policies and users on a MinIO cluster. Idempotent: it runs on every
# deploy, and again after a grant or department changes (regenerate policies, add a secret, re-run).
# An expired grant needs no re-run: its statement carries the expiry and MinIO stops honouring it.
# Shell builtins and `mc` only: the mc image is a minimal base without grep, find or coreutils.
#
# Credentials come only from files, so none sits in the compose file, a manifest or the job's env:
#   MINIO_URL             https://host:port of the cluster (required)
#   BOOTSTRAP_DIR         buckets.txt, department-users.txt, landing-users.txt and the *.json
#                         policies, or a policies/ folder beside them (default: this script's folder)
#   SECRETS_DIR           one file per credential (default /run/secrets): platform_s3_access_key,
#                         platform_s3_secret_key, dept_<department>_secret_key for each department
#                         in department-users.txt, landing_<source>_secret_key for each landing
#                         source in landing-users.txt, and minio_root_user + minio_root_password unless
#                         MINIO_CONFIG_ENV_FILE is set
#   MINIO_CONFIG_ENV_FILE the MinIO Operator's config.env (Kubernetes), for the root credentials
set -eu

: "${MINIO_URL:?MINIO_URL must be set, e.g. https://minio:9000}"
case "$0" in */*) here="${0%/*}" ;; *) here=. ;; esac
BOOTSTRAP_DIR="${BOOTSTRAP_DIR:-$here}"
SECRETS_DIR="${SECRETS_DIR:-/run/secrets}"
POLICY_DIR="$BOOTSTRAP_DIR"
[ -d "$BOOTSTRAP_DIR/policies" ] && POLICY_DIR="$BOOTSTRAP_DIR/policies"

fail() { echo "minio-bootstrap: $*" >&2; exit 1; }

# First line of a secret file, which must exist and not be empty.
secret() {
  [ -r "$SECRETS_DIR/$1" ] || fail "missing secret file $SECRETS_DIR/$1"
  value=""
  IFS= read -r value < "$SECRETS_DIR/$1" || true
  [ -n "$value" ] || fail "secret file $SECRETS_DIR/$1 is empty"
  printf '%s' "$value"
}

# `mc admin policy attach` refuses a no-op with an error; an already attached policy is success.
attach() {
  if ! out="$(mc admin policy attach city "$1" --user "$2" 2>&1)"; then
    case "$out" in
      *"already in effect"*) ;;
      *) fail "attach $1 to $2: $out" ;;
    esac
  fi
}

if [ -n "${MINIO_CONFIG_ENV_FILE:-}" ]; then
  # shellcheck disable=SC1090  # the operator's config.env is `export MINIO_ROOT_USER=...` lines
  . "$MINIO_CONFIG_ENV_FILE"
  root_user="${MINIO_ROOT_USER:?config.env has no MINIO_ROOT_USER}"
  root_password="${MINIO_ROOT_PASSWORD:?config.env has no MINIO_ROOT_PASSWORD}"
else
  root_user="$(secret minio_root_user)"
  root_password="$(secret minio_root_password)"
fi
[ -r "$BOOTSTRAP_DIR/buckets.txt" ] || fail "no buckets.txt in $BOOTSTRAP_DIR"
[ -r "$POLICY_DIR/platform-readwrite.json" ] || fail "no platform-readwrite.json in $POLICY_DIR"
[ -r "$BOOTSTRAP_DIR/lifecycle-noncurrent.json" ] || fail "no lifecycle-noncurrent.json in $BOOTSTRAP_DIR"
users="$BOOTSTRAP_DIR/department-users.txt"
[ -r "$users" ] || fail "no department-users.txt in $BOOTSTRAP_DIR"
feeds="$BOOTSTRAP_DIR/landing-users.txt"
[ -r "$feeds" ] || fail "no landing-users.txt in $BOOTSTRAP_DIR"

# Every credential and policy is read before anything changes, so a missing file cannot leave half
# a setup. department-users.txt lines are `<department> <user>`; fd 3 keeps mc off the list.
platform_user="$(secret platform_s3_access_key)"
platform_secret="$(secret platform_s3_secret_key)"
departments=0
while read -r department user <&3 || [ -n "$department" ]; do
  [ -n "$department" ] || continue
  [ -n "$user" ] || fail "department-users.txt: no user for $department"
  [ -r "$POLICY_DIR/department-$department.json" ] || fail "no department-$department.json in $POLICY_DIR"
  secret "dept_${department}_secret_key" >/dev/null
  departments=$((departments + 1))
done 3< "$users"
sources=0
while read -r source user <&3 || [ -n "$source" ]; do
  [ -n "$source" ] || continue
  [ -n "$user" ] || fail "landing-users.txt: no user for $source"
  [ -r "$POLICY_DIR/landing-$source.json" ] || fail "no landing-$source.json in $POLICY_DIR"
  secret "landing_${source}_secret_key" >/dev/null
  sources=$((sources + 1))
done 3< "$feeds"

mc alias set city "$MINIO_URL" "$root_user" "$root_password" >/dev/null

# Versioning on every bucket: an overwrite or delete by a faulty run keeps the previous version.
buckets=0
while IFS= read -r bucket || [ -n "$bucket" ]; do
  [ -n "$bucket" ] || continue
  mc mb --ignore-existing "city/$bucket"
  mc version enable "city/$bucket"
  # Overwritten or deleted objects stay readable as noncurrent versions for a week (to undo a
  # faulty run), then go: personal data must not outlive its retention as an old version. The
  # ownership ledger and lineage archive (governance, lineage) keep every version: audit trail.
  # `ilm import` replaces the bucket's rules, so a re-run adds nothing twice.
  case "$bucket" in
    governance | lineage) ;;
    *) mc ilm import "city/$bucket" < "$BOOTSTRAP_DIR/lifecycle-noncurrent.json" ;;
  esac
  buckets=$((buckets + 1))
done < "$BOOTSTRAP_DIR/buckets.txt"

mc admin policy create city platform-readwrite "$POLICY_DIR/platform-readwrite.json"
mc admin user add city "$platform_user" "$platform_secret"
attach platform-readwrite "$platform_user"

# One user per department with a grant, whose only policy reads the buckets of its grants, each
# until its grant's expiry. Re-creating a policy replaces it, so changed grants apply on a re-run.
# A department without any grant is not listed: it gets no user and nothing is attached.
while read -r department user <&3 || [ -n "$department" ]; do
  [ -n "$department" ] || continue
  mc admin policy create city "department-$department" "$POLICY_DIR/department-$department.json"
  mc admin user add city "$user" "$(secret "dept_${department}_secret_key")"
  attach "department-$department" "$user"
done 3< "$users"

# One upload-only user per city feed (landing source): it can put objects in its own landing
# folder and nothing else, so a leaked feed key cannot read city data or tamper with another feed.
while read -r source user <&3 || [ -n "$source" ]; do
  [ -n "$source" ] || continue
  mc admin policy create city "landing-$source" "$POLICY_DIR/landing-$source.json"
  mc admin user add city "$user" "$(secret "landing_${source}_secret_key")"
  attach "landing-$source" "$user"
done 3< "$feeds"

echo "minio-bootstrap: $buckets buckets, the platform user, $departments department users and $sources landing users in place"
