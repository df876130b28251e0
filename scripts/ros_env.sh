# Environment for da3_ros nodes and tests on one host (ros2-on-pypi.md, section 12). Source it:
#   VENV=.venv . scripts/ros_env.sh
# ROS_DOMAIN_ID: kept when already set, otherwise derived from this shell's PID, so that parallel runs on
# one machine do not see each other. Discovery range stays unset: with the SHM-only profile a process
# opens no UDP socket at all and discovery runs over shared memory (ros2-on-pypi.md, sections 3.1, 4.2).
_da3_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-$(( $$ % 90 + 10 ))}
export FASTRTPS_DEFAULT_PROFILES_FILE=${FASTRTPS_DEFAULT_PROFILES_FILE:-$_da3_root/config/fastdds_shm.xml}
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824
export ROS_LOG_DIR=${ROS_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/da3_ros_log.XXXXXX")}
export AMENT_PREFIX_PATH=${AMENT_PREFIX_PATH:-$(cd "${VENV:-$_da3_root/.venv}" && pwd)}
unset ROS_LOCALHOST_ONLY ROS_AUTOMATIC_DISCOVERY_RANGE _da3_root
