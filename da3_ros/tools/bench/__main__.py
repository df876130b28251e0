"""``python -m da3_ros.tools.bench``: the engine benchmark (``cli``)."""
import sys

from da3_ros.tools.bench.cli import main

sys.exit(main())
