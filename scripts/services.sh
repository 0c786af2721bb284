#!/usr/bin/env bash
# Make sure the services the integration tests use are running on 127.0.0.1:
# Redis (6379) and PostgreSQL (5432, database `test`, trust auth). Installs them from
# Debian's packages when missing (apt-get update first) and starts them when stopped.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() {  # port, name
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  echo "error: $2 did not start on 127.0.0.1:$1" >&2; exit 1
}

if ! port_open 6379; then
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for 6379 Redis
fi

if ! port_open 5432; then
  ls /etc/postgresql/*/main >/dev/null 2>&1 || apt_install postgresql
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for 5432 PostgreSQL
fi
# The tests connect as postgres to database `test` with trust auth on 127.0.0.1.
pg_ok() { psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; }
if ! pg_ok; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if ! grep -q "newsvault tests" "$hba"; then
    # A fresh Debian cluster asks for passwords on TCP; the throwaway test cluster trusts loopback.
    sed -i '1i host all all 127.0.0.1/32 trust # newsvault tests' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
  su postgres -c "psql -qc 'CREATE DATABASE test'" >/dev/null 2>&1 || true
  pg_ok || { echo "error: cannot connect to postgresql://postgres@127.0.0.1:5432/test" >&2; exit 1; }
fi
echo "services ready: redis 127.0.0.1:6379, postgresql 127.0.0.1:5432/test"
