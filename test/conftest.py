# Copyright 2026 The da3_ros Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""Shared pytest fixtures: the ROS 2 test environment and ROS subprocesses that get cleaned up.

The ROS environment follows docs/pip-runtime.md, "Tests": one ``ROS_DOMAIN_ID`` per test session,
the SHM-only Fast DDS profile ``config/fastdds_shm.xml``, a temporary ``ROS_LOG_DIR`` and the glibc
malloc thresholds. ``make test`` sets these already; a plain ``pytest`` run gets the same defaults
here. They land in ``os.environ`` before any test runs, so in-process rclpy and subprocesses agree.

Markers (declared in pytest.ini): ``gpu`` tests are skipped where CUDA is unavailable and
``weights`` tests where ``DA3_WEIGHTS`` is unset; both are listed in the ``-ra`` summary.

ROS tests are never skipped: a skip of a test or module under ``test/ros/``, of a test marked
``ros``, or with a reason that names ROS (rclpy, rosidl, ``*_msgs``, rosbags, mcap) is turned into
a failure, so a missing rclpy or message package fails ``make test`` instead of hiding. Set
``DA3_ALLOW_ROS_SKIPS=1`` only for a deliberate run without ROS.
"""

import os
from pathlib import Path
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional, Sequence

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHM_PROFILE = REPO_ROOT / 'config' / 'fastdds_shm.xml'

# Variables that would change discovery behind the test's back (docs/pip-runtime.md, "Tests").
_UNSET_VARS = ('ROS_LOCALHOST_ONLY', 'ROS_AUTOMATIC_DISCOVERY_RANGE', 'ROS_STATIC_PEERS')

# Filled once per session by pytest_configure.
_SESSION_ENV: Dict[str, str] = {}


def _session_ros_env() -> Dict[str, str]:
    """Return the ROS variables of this test session, keeping those the caller (make test) set."""
    domain = os.environ.get('ROS_DOMAIN_ID') or str(os.getpid() % 90 + 10)
    log_dir = os.environ.get('ROS_LOG_DIR') or tempfile.mkdtemp(prefix='da3_ros_log.')
    return {
        'ROS_DOMAIN_ID': domain,
        'FASTRTPS_DEFAULT_PROFILES_FILE': os.environ.get(
            'FASTRTPS_DEFAULT_PROFILES_FILE', str(SHM_PROFILE)),
        'ROS_LOG_DIR': log_dir,
        'MALLOC_MMAP_THRESHOLD_': '33554432',
        'MALLOC_TRIM_THRESHOLD_': '1073741824',
        'AMENT_PREFIX_PATH': os.environ.get('AMENT_PREFIX_PATH') or sys.prefix,
    }


def pytest_configure(config: pytest.Config) -> None:
    """Put the session's ROS variables into ``os.environ`` before any test imports rclpy."""
    _SESSION_ENV.update(_session_ros_env())
    os.environ.update(_SESSION_ENV)
    for name in _UNSET_VARS:
        os.environ.pop(name, None)


def _cuda_available() -> bool:
    import torch  # imported only when a gpu test was collected
    return bool(torch.cuda.is_available())


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    """Skip ``gpu`` tests without CUDA and ``weights`` tests without ``DA3_WEIGHTS``."""
    gpu_items = [item for item in items if item.get_closest_marker('gpu')]
    if gpu_items and not _cuda_available():
        skip_gpu = pytest.mark.skip(reason='gpu: torch.cuda.is_available() is False here')
        for item in gpu_items:
            item.add_marker(skip_gpu)
    if not os.environ.get('DA3_WEIGHTS'):
        skip_weights = pytest.mark.skip(reason='weights: DA3_WEIGHTS (checkpoint or hub id) unset')
        for item in items:
            if item.get_closest_marker('weights'):
                item.add_marker(skip_weights)


_ROS_REASON = re.compile(r'rclpy|rosidl|_msgs\b|rosbags|mcap|\bROS\b')


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _is_ros_path(path: str) -> bool:
    resolved = Path(path).resolve()
    tests = Path(__file__).resolve().parent
    return resolved.is_relative_to(tests / 'ros') or resolved == tests / 'test_msgs.py'


def _refuse_ros_skip(report, path: str, marked_ros: bool) -> None:
    """Turn a skip that hides a missing ROS piece into a failure (see the module docstring)."""
    if os.environ.get('DA3_ALLOW_ROS_SKIPS') == '1' or hasattr(report, 'wasxfail'):
        return
    reason = _skip_reason(report)
    if marked_ros or _is_ros_path(path) or _ROS_REASON.search(reason):
        report.outcome = 'failed'
        report.longrepr = (f'ROS test skipped, which make test does not allow: {reason}\n'
                           '(make venv provides rclpy, the messages and the bag tools; '
                           'set DA3_ALLOW_ROS_SKIPS=1 for a deliberate run without ROS)')


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    allowed = item.get_closest_marker('gpu') or item.get_closest_marker('weights')
    if report.skipped and not allowed:
        _refuse_ros_skip(report, str(item.path), item.get_closest_marker('ros') is not None)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield
    report = outcome.get_result()
    if report.skipped:
        _refuse_ros_skip(report, str(collector.path), False)


@pytest.fixture(scope='session')
def repo_root() -> Path:
    """Root of the repository (the folder with package.xml)."""
    return REPO_ROOT


@pytest.fixture(scope='session')
def ros_env() -> Dict[str, str]:
    """ROS variables of this session: domain id, SHM profile, log dir, malloc thresholds.

    Fails (never skips) when rclpy cannot be imported or the Fast DDS profile is missing.
    """
    import rclpy  # noqa: F401  (an ImportError here fails every ROS test instead of skipping it)
    env = dict(_SESSION_ENV)
    assert Path(env['FASTRTPS_DEFAULT_PROFILES_FILE']).is_file(), (
        f'Fast DDS profile missing: {env["FASTRTPS_DEFAULT_PROFILES_FILE"]}')
    return env


def _fastdds_executable() -> Optional[str]:
    candidate = Path(sys.executable).parent / 'fastdds'
    return str(candidate) if candidate.exists() else shutil.which('fastdds')


def fastdds_shm_clean() -> None:
    """Remove shared-memory segments and ports of killed participants (docs/pip-runtime.md)."""
    exe = _fastdds_executable()
    if exe is not None:
        subprocess.run([exe, 'shm', 'clean'], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60, check=False)


class RosProcess:
    """A Python subprocess in the ROS test environment; stdout and stderr go to one log file."""

    def __init__(self, popen: subprocess.Popen, log_path: Path) -> None:
        self.popen = popen
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        """Everything the process wrote so far (stdout and stderr interleaved)."""
        return self.log_path.read_text(errors='replace') if self.log_path.exists() else ''

    def poll(self) -> Optional[int]:
        return self.popen.poll()

    def wait(self, timeout: float) -> int:
        """Wait for the exit status; raises ``subprocess.TimeoutExpired``."""
        return self.popen.wait(timeout=timeout)

    def stop(self, grace_s: float = 5.0) -> Optional[int]:
        """Stop the process group: SIGINT, then SIGTERM, then SIGKILL; returns the exit status."""
        steps = ((signal.SIGINT, grace_s), (signal.SIGTERM, 3.0), (signal.SIGKILL, 10.0))
        for sig, wait_s in steps:
            if self.popen.poll() is not None:
                break
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.popen.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                continue
        return self.popen.poll()


class RosProcessLauncher:
    """Start Python subprocesses with the session's ROS environment; stops them all at teardown."""

    def __init__(self, env: Dict[str, str], log_dir: Path) -> None:
        self._env = env
        self._log_dir = log_dir
        self._processes: List[RosProcess] = []

    def environment(self, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        """Return the child environment: this process's, plus the ROS variables and ``extra``."""
        env = dict(os.environ)
        env.update(self._env)
        for name in _UNSET_VARS:
            env.pop(name, None)
        # Let the wheel bootstrapper of the child's venv set its own library path
        # (docs/pip-runtime.md, "The wheels' bootstrapper").
        env.pop('_ROS_WHEELS_BOOTSTRAP_COMPLETE', None)
        env['PYTHONUNBUFFERED'] = '1'
        env.update(extra or {})
        return env

    def python(self, code: str, *args: str, name: str = 'proc',
               env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None) -> RosProcess:
        """Run ``python -c code args...`` in the background."""
        return self.start([sys.executable, '-c', code, *args], name=name, env=env, cwd=cwd)

    def module(self, module: str, *args: str, name: Optional[str] = None,
               env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None) -> RosProcess:
        """Run ``python -m module args...`` in the background (e.g. a node with ``--ros-args``)."""
        return self.start([sys.executable, '-m', module, *args], name=name or module,
                          env=env, cwd=cwd)

    def start(self, argv: Sequence[str], *, name: str = 'proc',
              env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None) -> RosProcess:
        """Start ``argv`` in its own process group; output goes to ``<tmp>/<name>-<n>.log``."""
        log_path = self._log_dir / f'{name}-{len(self._processes)}.log'
        with open(log_path, 'wb') as log:
            popen = subprocess.Popen(
                list(argv), env=self.environment(env), cwd=str(cwd or REPO_ROOT),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        process = RosProcess(popen, log_path)
        self._processes.append(process)
        return process

    def stop_all(self) -> None:
        """Stop every process started here, then clean stale shared memory."""
        for process in self._processes:
            process.stop()
        if self._processes:
            fastdds_shm_clean()


@pytest.fixture
def ros_launcher(ros_env: Dict[str, str], tmp_path: Path):
    """Start ROS subprocesses (``.python(code)``, ``.module(name, ...)``); stopped afterwards."""
    launcher = RosProcessLauncher(ros_env, tmp_path)
    try:
        yield launcher
    finally:
        launcher.stop_all()
