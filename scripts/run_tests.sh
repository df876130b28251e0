#!/usr/bin/env bash
# Run the whole pytest suite in the ROS environment of ros2-on-pypi.md, section 12, and exit with
# pytest's own status (0 passed, 1 failures, 2 interrupted/collection error, 5 no tests collected, ...).
# Usage: scripts/run_tests.sh [pytest args...]   (VENV defaults to .venv; make test calls this)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
VENV=$(cd "${VENV:-$root/.venv}" && pwd)
cd "$root"
# shellcheck source=scripts/ros_env.sh
. "$root/scripts/ros_env.sh"
status_file=$VENV/pytest-exit-status
rm -f "$status_file"
echo "ROS env: ROS_DOMAIN_ID=$ROS_DOMAIN_ID FASTRTPS_DEFAULT_PROFILES_FILE=$FASTRTPS_DEFAULT_PROFILES_FILE" \
  "ROS_LOG_DIR=$ROS_LOG_DIR"
rc=0
"$VENV/bin/python" -m pytest "$@" || rc=$?
# Shared-memory segments of killed participants (ros2-on-pypi.md, section 3.4).
"$VENV/bin/fastdds" shm clean > /dev/null 2>&1 || true
if [ "$rc" -eq 0 ]; then rm -rf "$ROS_LOG_DIR"; else echo "ROS logs kept in $ROS_LOG_DIR"; fi
[ "$rc" -eq 5 ] && echo 'pytest collected no tests (exit status 5): that is a failure' >&2
echo "$rc" > "$status_file"
exit "$rc"
