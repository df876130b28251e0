"""``python -m da3_ros.tools.bag``: the ``da3_bag`` command line (``cli``)."""
import sys

from da3_ros.tools.bag.cli import main

sys.exit(main())
