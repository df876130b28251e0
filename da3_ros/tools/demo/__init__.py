"""The demo (``python -m da3_ros.tools.demo``, ``make demo``): sample recording to a web page.

``cli`` is the command line, ``run`` renders and processes the recording, ``data`` reads the
output bag back, ``novel`` adds the what-if views, ``page`` writes ``index.html``, ``plots`` and
``visualize`` draw the pictures. Importing the package imports none of them.
"""
