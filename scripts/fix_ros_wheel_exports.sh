#!/usr/bin/env bash
# Point the exported CMake targets of the ROS wheels (and of locally built interface packages) at this
# venv's Python and numpy include directories (docs/pip-runtime.md, "Building interface packages").
# Usage: fix_ros_wheel_exports.sh "$VENV"   (idempotent; rerun after any ROS-wheel or numpy change)
set -euo pipefail
VENV=$1; PY=$VENV/bin/python
PYINC=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
NPINC=$("$PY" -c 'import numpy; print(numpy.get_include())')
FILES=$(find "$VENV/share" -path '*/cmake/export_*__rosidl_generator_pyExport.cmake')
[ -z "$FILES" ] && { echo 'nothing to patch'; exit 0; }
for f in $FILES; do
  sed -i -E -e "s#[^;\"]*/include/python3\.[0-9]+([;\"])#$PYINC\1#g" \
            -e "s#[^;\"]*/numpy/(_core|core)/include([;\"])#$NPINC\2#g" "$f"
done
echo "patched $(echo $FILES | wc -w) files -> $PYINC ; $NPINC"
