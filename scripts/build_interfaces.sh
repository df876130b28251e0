#!/usr/bin/env bash
# Build rosidl interface packages with the pip-installed toolchain and install them into the venv prefix
# (docs/pip-runtime.md, "Building interface packages"). No run-time environment variables are needed afterwards.
# Usage: build_interfaces.sh "$VENV" "$BUILD_DIR" <package source dir>...
set -euo pipefail
VENV=$(cd "$1" && pwd); mkdir -p "$2"; BUILD=$(cd "$2" && pwd); shift 2
export PATH=$VENV/bin:$PATH AMENT_PREFIX_PATH=$VENV CMAKE_PREFIX_PATH=$VENV
# Export files of the wheels and of packages built earlier must name this venv's include dirs.
bash "$(dirname "$0")/fix_ros_wheel_exports.sh" "$VENV"
for src in "$@"; do
  pkg=$(sed -n 's#.*<name>\(.*\)</name>.*#\1#p' "$src/package.xml" | head -n 1)
  echo "building interface package $pkg from $src"
  cmake -S "$src" -B "$BUILD/$pkg" -DCMAKE_PREFIX_PATH="$VENV" -DCMAKE_INSTALL_PREFIX="$VENV" \
    -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF > "$BUILD/$pkg.configure.log" 2>&1 \
    || { cat "$BUILD/$pkg.configure.log"; exit 1; }
  cmake --build "$BUILD/$pkg" -j"$(nproc)" > "$BUILD/$pkg.build.log" 2>&1 \
    || { tail -n 60 "$BUILD/$pkg.build.log"; exit 1; }
  cmake --install "$BUILD/$pkg" > "$BUILD/$pkg.install.log" 2>&1 \
    || { cat "$BUILD/$pkg.install.log"; exit 1; }
done
# The packages just built wrote their own export files: point them at this venv too.
bash "$(dirname "$0")/fix_ros_wheel_exports.sh" "$VENV"
