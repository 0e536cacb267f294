#!/bin/bash
# The benchmark's baseline: the approach of the investigation's "Manual Cleanup Script"
# (shared/reference/zombie-session-investigation.md) in detection-only form. It prints what the script
# would kill instead of killing it. Written for the bench; never run it against processes you care about
# (it only reads, but it is here to be timed, not used).
#
# Usage: baseline.sh SOCKET...   (the tmux server sockets; the original script queries only the default one)
#
# Faithful to the original (the loops read process substitutions instead of pipes only so that the call
# counters survive), with one generalisation: the original asks the default tmux server whether a
# claude is a pane's process; the bench machine has several servers on private sockets, so each claude is
# looked up on each server in turn until one lists it (one `tmux list-panes -a` per server asked).
# Output: `orphan-claude PID` and `orphan-mcp PID` lines, then `tmux-calls N`, `ps-calls N` and `examined N`
# (claude and MCP pids looked at); on stderr `listed N` for each pgrep (how many it found).
#
# BASELINE_STRIDE=k (default 1) examines only every k-th claude and every k-th MCP process that pgrep lists:
# on big machines the full script takes minutes per run (each `ps -p` scans all of /proc), so the bench times
# a sample and extrapolates (bench/run.js says so wherever it does). BASELINE_STRIDE=0 examines none: only the
# two pgrep scans, the fixed part of the cost.
stride=${BASELINE_STRIDE:-1}
examined=0
sample() {
  local n=0 pid
  while read -r pid; do
    if [ "$stride" != 0 ] && [ $((n % stride)) = 0 ]; then echo "$pid"; fi
    n=$((n + 1))
  done
  echo "listed $n" >&2
}

tmux_calls=0
ps_calls=0

while read -r pid; do
  examined=$((examined + 1))
  is_pane=false
  for sock in "$@"; do
    tmux_calls=$((tmux_calls + 1))
    if tmux -S "$sock" list-panes -a -F '#{pane_pid}' 2>/dev/null | grep -q "^${pid}$"; then
      is_pane=true
      break
    fi
  done
  if [ "$is_pane" = "false" ]; then
    echo "orphan-claude $pid"
  fi
done < <(pgrep -x claude | sample)

while read -r pid; do
  examined=$((examined + 1))
  ps_calls=$((ps_calls + 1))
  ppid=$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')
  # If parent is init (1) or doesn't exist, it's orphaned
  if [ "$ppid" = "1" ] || { ps_calls=$((ps_calls + 1)); ! ps -p "$ppid" >/dev/null 2>&1; }; then
    echo "orphan-mcp $pid"
  fi
done < <(pgrep -f mcp-server | sample)

echo "tmux-calls $tmux_calls"
echo "ps-calls $ps_calls"
echo "examined $examined"
