"""Fleet processing on Ray: many bags, and long bags split into time shards (``da3_bag fleet``).

Only :mod:`driver` imports ``ray``; the single-bag tool (``da3_bag process``) never imports this
package's driver. See ``docs/fleet.md``.
"""
