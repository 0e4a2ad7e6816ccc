#!/bin/sh
# One-shot: creates Temporal's two PostgreSQL databases and brings their schemas up to the version
# this admin-tools image ships. Idempotent: an existing database is kept, applied versions are
# skipped, so it runs on every `docker compose up`.
set -eu
: "${POSTGRES_SEEDS:?POSTGRES_SEEDS (the database host) is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}"
PORT="${DB_PORT:-5432}"
SCHEMA=/etc/temporal/schema/postgresql/v12

until nc -z "$POSTGRES_SEEDS" "$PORT"; do
  echo "waiting for PostgreSQL at $POSTGRES_SEEDS:$PORT"
  sleep 2
done

for db in temporal:temporal temporal_visibility:visibility; do
  name="${db%%:*}"
  dir="${db##*:}"
  sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$PORT" -u "$POSTGRES_USER" --db "$name" "$@"; }
  sql create
  sql setup-schema -v 0.0
  sql update-schema -d "$SCHEMA/$dir/versioned"
  echo "database $name: schema up to date"
done
