#!/usr/bin/env bash
# Loads the kernel modules the lab needs on a GitHub runner, one by one: ip_vs and the schedulers
# the fixtures use (rr, wrr, lc, sh), conntrack, and what the director's `-m ipvs … -j MASQUERADE`
# rule needs through Debian's iptables-nft. Docker's sysctls (net.ipv4.vs.conntrack) only exist in
# a container once ip_vs is loaded on the host. A module that does not load makes one try of
# `apt-get install linux-modules-extra-<kernel>` (the runner image may leave it out), then a retry;
# what still fails is named with modprobe's error and `modinfo -n`'s answer, and the script exits 1.
# Run as root: sudo bash scripts/load-ipvs-modules.sh [MODULE…]  (default: the list below)
set -uo pipefail

modules=(ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_sh nf_conntrack nf_nat
         nf_tables nft_compat nft_chain_nat xt_ipvs xt_MASQUERADE)
[ $# -gt 0 ] && modules=("$@")
proc_ipvs=${LB_E2E_PROC_IPVS:-/proc/net/ip_vs} # tests point it at a file of their own

kernel=$(uname -r)
extra=linux-modules-extra-$kernel
extra_tried=false
extra_result="not tried"
failed=()

# One line, as a GitHub annotation: `::error::` ends at the newline.
one_line() { tr '\n' ' ' <<<"$1" | sed 's/ *$//'; }
where() { local out; out=$(modinfo -n "$1" 2>&1) || true; one_line "${out:-no output}"; }

install_extra() {
  extra_tried=true
  echo "a module is missing on kernel $kernel: installing $extra"
  local out
  if out=$( { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$extra"; } 2>&1); then
    extra_result="installed"
  else
    extra_result="apt-get install $extra failed: $(one_line "$(tail -n 3 <<<"$out")")"
  fi
  echo "$extra: $extra_result"
}

for module in "${modules[@]}"; do
  if err=$(modprobe "$module" 2>&1); then
    echo "loaded $module ($(where "$module"))"
    continue
  fi
  if ! $extra_tried; then
    install_extra
    if err=$(modprobe "$module" 2>&1); then
      echo "loaded $module after installing $extra ($(where "$module"))"
      continue
    fi
  fi
  failed+=("$module")
  echo "::error title=kernel module $module is missing::modprobe $module failed on kernel $kernel: $(one_line "${err:-no output}"); modinfo -n $module: $(where "$module"); $extra: $extra_result"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "::error title=missing kernel modules::${failed[*]} did not load on kernel $kernel (see the errors above); the lab needs all of: ${modules[*]}"
  exit 1
fi
if [ ! -e "$proc_ipvs" ]; then
  echo "::error title=no IPVS::every module loaded but $proc_ipvs is missing on kernel $kernel"
  exit 1
fi
echo "kernel $kernel: ${#modules[@]} modules loaded, $proc_ipvs present"
