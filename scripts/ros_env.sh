# Environment for da3_ros processes on the pip-only ROS 2 runtime (docs/pip-runtime.md). Source it in
# every terminal that runs the node, a replay, RViz or a tool:
#   VENV=.venv . scripts/ros_env.sh
# ROS_DOMAIN_ID: kept when already set, otherwise 0 (the ROS 2 default), so that all terminals of a
#   user meet in one domain. Give each robot or user on a network its own id (0..101) instead.
# Transport: Fast DDS's defaults (UDP discovery and data, plus shared memory between processes on one
#   host), which reach other processes and other hosts, e.g. RViz on a laptop. A profile already named
#   by FASTRTPS_DEFAULT_PROFILES_FILE is kept; the test runner (scripts/run_tests.sh) selects the
#   shared-memory-only profile config/fastdds_shm.xml and a per-run domain id for isolation.
_da3_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-0}
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824
export ROS_LOG_DIR=${ROS_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/da3_ros_log.XXXXXX")}
export AMENT_PREFIX_PATH=${AMENT_PREFIX_PATH:-$(cd "${VENV:-$_da3_root/.venv}" && pwd)}
unset _da3_root
