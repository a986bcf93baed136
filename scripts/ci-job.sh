#!/usr/bin/env bash
# The steps of a gate job on a runner, one script for both places that run them: the GitHub
# workflow (.github/workflows/e2e.yml, one step each) and the runner VM (npm run test:runner, all
# three in a row, on a real IPVS kernel), so the VM proves what the workflow does.
#   bash scripts/ci-job.sh modules          load ip_vs and the netfilter modules, one by one
#   bash scripts/ci-job.sh setup            packages, dockerd, npm ci, the lab's images (scripts/setup.sh)
#   bash scripts/ci-job.sh test [ARGS…]     npm test -- ARGS (a shard, a project, reporters)
# Run as root (the workflow: sudo -E env "PATH=$PATH" bash scripts/ci-job.sh …).
set -euo pipefail
cd "$(dirname "$0")/.."

step=${1:-}
[ $# -gt 0 ] && shift
case $step in
  modules) exec bash scripts/load-ipvs-modules.sh ;;
  setup) exec bash scripts/setup.sh ;;
  test) exec npm test -- "$@" ;;
  *) echo "usage: bash scripts/ci-job.sh modules | setup | test [vitest args…]" >&2; exit 2 ;;
esac
