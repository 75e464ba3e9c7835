"""incubators: carriers, incubated firms and the incubator HTTP API.

Not built yet: issue #5.
"""
