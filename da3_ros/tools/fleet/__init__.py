"""Fleet processing on Ray: many bags, and long bags split into time shards (``da3_bag fleet``).

Only :mod:`cluster` imports ``ray`` (lazily, when a fleet starts); the single-bag tool
(``da3_bag process``) never does. See ``docs/fleet.md`` and :mod:`driver`.
"""
