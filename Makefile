# da3_ros developer entry points. `make test` is all CI runs (.ci/run); see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CONSTRAINTS := requirements/constraints.txt
STAMPS := $(VENV)/.stamps
IFACE_BUILD := $(VENV)/.build
WEIGHTS ?=
OUT ?= demo_out
ARGS ?=
PYTEST_ARGS ?=
# Empty WEIGHTS means the hub id of the small model.
DEMO_WEIGHTS = $(or $(strip $(WEIGHTS)),depth-anything/DA3-SMALL)

MSG_SRC := msg/package.xml msg/CMakeLists.txt $(wildcard msg/msg/*.msg)
TF2_SRC := $(wildcard ros_stubs/tf2_msgs/*.txt ros_stubs/tf2_msgs/*.xml ros_stubs/tf2_msgs/msg/*.msg)

.PHONY: help venv interfaces test demo bench trt-check lint clean

help:
	@echo 'make venv        create $(VENV): pinned ROS 2 Jazzy wheels, torch, tf2_msgs + da3_ros_msgs, da3_ros -e'
	@echo 'make test        venv + the whole pytest suite with the ROS test environment (PYTEST_ARGS=...)'
	@echo 'make demo        venv + python -m da3_ros.tools.demo (WEIGHTS=<file|dir|hub id>, OUT=$(OUT))'
	@echo 'make bench       venv + python -m da3_ros.tools.bench $$ARGS'
	@echo 'make trt-check   venv + TensorRT engine vs torch on parity weights: errors, latency ($$ARGS)'
	@echo 'make lint        flake8 with the ament rules'
	@echo 'make interfaces  rebuild the interface packages into $(VENV)'
	@echo 'make clean       remove $(VENV) and build outputs'

venv: $(STAMPS)/editable

$(STAMPS)/created:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@mkdir -p $(STAMPS) && touch $@

# Jazzy wheels only, all pinned (docs/pip-runtime.md, "Version trap").
$(STAMPS)/ros: $(STAMPS)/created requirements/ros-jazzy.txt $(CONSTRAINTS)
	$(PIP) install -q -c $(CONSTRAINTS) -r requirements/ros-jazzy.txt
	@touch $@

# Keep a torch that is already installed (docs/pip-runtime.md, "numpy and torch"); never an unpinned one.
$(STAMPS)/torch: $(STAMPS)/ros
	$(PY) -c 'import torch' 2>/dev/null || $(PIP) install -q -c $(CONSTRAINTS) 'torch==2.13.0'
	@touch $@

# tf2_msgs stand-in and da3_ros_msgs, built with the pip rosidl toolchain into the venv prefix
# (docs/pip-runtime.md, "Building interface packages"); the export-fix script runs before and after the builds.
$(STAMPS)/interfaces: $(STAMPS)/torch $(MSG_SRC) $(TF2_SRC) scripts/build_interfaces.sh \
		scripts/fix_ros_wheel_exports.sh
	bash scripts/build_interfaces.sh $(VENV) $(IFACE_BUILD) ros_stubs/tf2_msgs msg
	@touch $@

# An editable install skips data_files: link share/da3_ros to the working tree instead (like colcon's
# --symlink-install), so that ament_index_python finds da3_ros with AMENT_PREFIX_PATH=$(VENV), and
# lib/da3_ros/da3_node to the console script, where launch_ros and `ros2 run` look for it.
# launch/ and config/ are real folders of per-file links: `ros2 launch` finds a launch file by
# os.walk over share/da3_ros, which does not enter symlinked folders. A link left from an older
# layout (a whole-folder link) or to a deleted file is removed, never what it points to.
SHARE_DIRS := launch config rviz
SHARE_FILES := $(wildcard $(addsuffix /*,$(SHARE_DIRS)))
venv: $(STAMPS)/share

$(STAMPS)/editable: $(STAMPS)/interfaces setup.py setup.cfg package.xml Makefile
	$(PIP) install -q -c $(CONSTRAINTS) -e '.[test,bag,fleet,onnx]'
	mkdir -p $(VENV)/share/da3_ros $(VENV)/share/ament_index/resource_index/packages
	ln -sfn $(CURDIR)/package.xml $(VENV)/share/da3_ros/package.xml
	mkdir -p $(VENV)/lib/da3_ros && ln -sfn ../../bin/da3_node $(VENV)/lib/da3_ros/da3_node
	touch $(VENV)/share/ament_index/resource_index/packages/da3_ros
	@touch $@

$(STAMPS)/share: $(STAMPS)/editable $(SHARE_FILES) Makefile
	for dir in $(SHARE_DIRS); do \
	  share=$(VENV)/share/da3_ros/$$dir; \
	  if [ -L $$share ]; then rm $$share; fi; \
	  mkdir -p $$share && find $$share -maxdepth 1 -type l -delete; \
	  for file in $(CURDIR)/$$dir/*; do ln -sfn $$file $$share/; done; \
	done
	@touch $@

interfaces:
	rm -f $(STAMPS)/interfaces
	$(MAKE) $(STAMPS)/interfaces

test: venv
	VENV=$(VENV) bash scripts/run_tests.sh $(PYTEST_ARGS)

demo: venv
	VENV=$(VENV) . scripts/ros_env.sh && \
	  $(PY) -m da3_ros.tools.demo --weights '$(DEMO_WEIGHTS)' --out '$(OUT)' $(ARGS)

bench: venv
	@echo 'bench: loading torch; progress follows on stderr, the JSON goes to bench_out/'
	VENV=$(VENV) . scripts/ros_env.sh && $(PY) -m da3_ros.tools.bench $(ARGS)

# Needs TensorRT >= 10.14 and CUDA; without them it says so and exits 2 (nothing is run).
trt-check: venv
	$(PY) -m da3_ros.tools.trt_check $(ARGS)

lint: venv
	$(PY) -m flake8 da3_ros test setup.py launch

clean:
	rm -rf $(VENV) build install log *.egg-info da3_ros.egg-info
