"""``python -m da3_ros.tools.demo``: the demo command line (``cli``)."""
import sys

from da3_ros.tools.demo.cli import main

sys.exit(main())
