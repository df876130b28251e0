"""``python -m da3_ros.tools.bag`` is the ``da3_bag`` command line (the package's ``__main__``)."""
import subprocess
import sys


def test_module_run_is_da3_bag(repo_root):
    done = subprocess.run([sys.executable, '-m', 'da3_ros.tools.bag', '--help'], cwd=repo_root,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('usage: da3_bag ') and '{process,record,fleet}' in done.stdout


def test_module_run_without_a_command_is_a_usage_error(repo_root):
    done = subprocess.run([sys.executable, '-m', 'da3_ros.tools.bag'], cwd=repo_root,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2 and 'usage: da3_bag' in done.stderr, done.stderr
