#!/usr/bin/env bash
# Sets a bare Debian 12 machine up for lb-e2e, idempotently (a second run takes seconds):
#   Debian packages the lab needs, a running Docker daemon, the project's own Node 24 and
#   dependencies (npm ci), and every image and VM artifact, built locally.
# Run as root from anywhere: bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "setup: run as root (it installs packages and starts dockerd)" >&2; exit 1; }
started=$SECONDS
say() { printf '▸ %s\n' "$*"; }

# 1. Debian packages: the tools the lab drives (ip, iptables), and only what this machine lacks:
#    Docker (a runner with Docker's own packages keeps them: they conflict with docker.io), QEMU
#    where the kernel has no IPVS (the director then runs in a VM), debootstrap where no
#    LAB_BASE_IMAGE is given, Node/npm where there is none (npm ci then brings Node 24).
packages=(iproute2 iptables procps ca-certificates unzip zip)  # unzip: the gate reads a .war's web.xml
command -v dockerd >/dev/null || packages+=(docker.io)
[ -e /proc/net/ip_vs ] || packages+=(qemu-system-x86)
[ -n "${LAB_BASE_IMAGE:-}" ] || packages+=(debootstrap)
command -v npm >/dev/null || packages+=(nodejs npm)
command -v chromium >/dev/null || packages+=(chromium)  # renders reports/index.html in suites/unit/report-html.test.ts
command -v shellcheck >/dev/null || packages+=(shellcheck)  # suites/unit/workflow.test.ts lints the workflow's scripts
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# 2. The Docker daemon: nothing starts it on these machines.
if ! docker info >/dev/null 2>&1; then
  if [ -d /run/systemd/system ]; then
    say "starting docker (systemd)"; systemctl start docker
  else
    say "starting dockerd (log: /var/log/lb-e2e-dockerd.log)"
    # Its own session: a daemon in the caller's process group dies with the job that started it.
    setsid nohup dockerd >>/var/log/lb-e2e-dockerd.log 2>&1 </dev/null &
  fi
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "setup: dockerd did not come up; see /var/log/lb-e2e-dockerd.log" >&2; exit 1; }
fi

# 3. Dependencies, only when package-lock.json changed since the last install.
stamp=node_modules/.lb-e2e-lock.sha256
if ! sha256sum --status -c "$stamp" 2>/dev/null; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error  # EBADENGINE: npm itself may run on an older Node
  sha256sum package-lock.json > "$stamp"
fi
node_modules/.bin/node --version | grep -q '^v24\.' || { echo "setup: node_modules/.bin/node is not Node 24" >&2; exit 1; }

# 4. Images and the director VM's kernel and initramfs (Docker's layer cache makes this a no-op
#    when nothing changed).
npm run --silent build:lab

say "setup done in $((SECONDS - started)) s"
