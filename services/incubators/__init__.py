"""incubators: carriers, incubated firms and the incubator HTTP API (issue #5; not built yet)."""
