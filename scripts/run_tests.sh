#!/usr/bin/env bash
# Run the whole pytest suite in an isolated ROS environment (docs/pip-runtime.md, "Tests") and exit
# with pytest's own status (0 passed, 1 failures, 2 interrupted/collection error, 5 no tests collected, ...).
# Usage: scripts/run_tests.sh [pytest args...]   (VENV defaults to .venv; make test calls this)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
VENV=$(cd "${VENV:-$root/.venv}" && pwd)
cd "$root"
# Isolation from the user's ROS graph and from parallel runs: a domain id of this run (from its PID
# unless DA3_TEST_ROS_DOMAIN_ID is set) and the shared-memory-only profile (no UDP socket at all);
# discovery variables that would widen or narrow the graph are unset.
# Concurrent runs on one machine each hold a lock on their domain id (flock), so two runs never
# share a graph (a PID modulo 90 alone collides: two nodes answering one player).
if [ -n "${DA3_TEST_ROS_DOMAIN_ID:-}" ]; then
  export ROS_DOMAIN_ID=$DA3_TEST_ROS_DOMAIN_ID
else
  export ROS_DOMAIN_ID=$(( $$ % 90 + 10 ))
  if command -v flock > /dev/null; then
    for offset in $(seq 0 89); do
      id=$(( ($$ + offset) % 90 + 10 ))
      exec {domain_lock}> "${TMPDIR:-/tmp}/da3_ros_test_domain_$id.lock"
      if flock -n "$domain_lock"; then ROS_DOMAIN_ID=$id; break; fi
      exec {domain_lock}>&-
    done
  fi
fi
export FASTRTPS_DEFAULT_PROFILES_FILE=$root/config/fastdds_shm.xml
unset ROS_LOCALHOST_ONLY ROS_AUTOMATIC_DISCOVERY_RANGE ROS_STATIC_PEERS
# shellcheck source=scripts/ros_env.sh
. "$root/scripts/ros_env.sh"
# test/tools/demo/test_cli.py renders the demo page in headless Chromium (Debian: chromium).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  echo 'installing chromium (apt-get) for the demo page browser test'
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
    > "$ROS_LOG_DIR/apt-chromium.log" 2>&1 || echo "chromium install failed: $ROS_LOG_DIR/apt-chromium.log" >&2
fi
status_file=$VENV/pytest-exit-status
rm -f "$status_file"
echo "ROS env: ROS_DOMAIN_ID=$ROS_DOMAIN_ID FASTRTPS_DEFAULT_PROFILES_FILE=$FASTRTPS_DEFAULT_PROFILES_FILE" \
  "ROS_LOG_DIR=$ROS_LOG_DIR"
rc=0
"$VENV/bin/python" -m pytest "$@" || rc=$?
# Shared-memory segments of killed participants (docs/pip-runtime.md, "Tests").
"$VENV/bin/fastdds" shm clean > /dev/null 2>&1 || true
if [ "$rc" -eq 0 ]; then rm -rf "$ROS_LOG_DIR"; else echo "ROS logs kept in $ROS_LOG_DIR"; fi
[ "$rc" -eq 5 ] && echo 'pytest collected no tests (exit status 5): that is a failure' >&2
echo "$rc" > "$status_file"
exit "$rc"
