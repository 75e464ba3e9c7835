"""incubators: carriers, incubated firms, the incubator HTTP API and progress to the targets."""
