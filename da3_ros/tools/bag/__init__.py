"""The offline bag tool ``da3_bag`` (``python -m da3_ros.tools.bag``): read, process, write.

``cli`` is the command line, ``process`` runs one bag through ``pipeline`` (the node's
synchronisation, conversion and engine), ``io`` reads bags, ``writer`` writes the output's mcap
segments and ``state`` its resume state, ``sample_recording`` renders the synthetic sample bag.
Importing the package imports none of them.
"""
