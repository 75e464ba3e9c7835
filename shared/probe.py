"""`python -m shared.probe [live|ready] [--pid N]`: the image's HEALTHCHECK.

One image runs any of the services, so the probe finds the port from the service's own
command line (`nameko run --config services/<name>/config.yaml ...`, PID 1 in a container):
the config's `WEB_SERVER_ADDRESS`, resolved from that process's environment as nameko resolved
it. Exit status 0 when the probe answers 200, 1 otherwise (with the reason on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.request
from pathlib import Path

from shared.config import load_config

TIMEOUT_SECONDS = 3


def config_of(cmdline: list[str]) -> str:
    """The `--config` path of a `nameko run` command line."""
    for index, word in enumerate(cmdline):
        if word == "--config" and index + 1 < len(cmdline):
            return cmdline[index + 1]
        if word.startswith("--config="):
            return word.split("=", 1)[1]
    raise ValueError(f"no --config in the command line {' '.join(cmdline)!r}")


def probe_url(cmdline: list[str], cwd: Path, probe: str) -> str:
    config = load_config(cwd / config_of(cmdline))
    host, _, port = str(config["WEB_SERVER_ADDRESS"]).rpartition(":")
    if host in ("", "0.0.0.0", "::"):  # listening everywhere: ask on loopback
        host = "127.0.0.1"
    return f"http://{host}:{port}/health/{probe}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.probe")
    parser.add_argument("probe", nargs="?", default="live", choices=("live", "ready"))
    parser.add_argument("--pid", type=int, default=1, help="the service's process (default 1)")
    args = parser.parse_args(argv)
    proc = Path(f"/proc/{args.pid}")
    try:
        cmdline = proc.joinpath("cmdline").read_bytes().decode().split("\0")
        environ = proc.joinpath("environ").read_bytes().decode().split("\0")
        os.environ.clear()  # this short-lived process resolves the config as the service did
        os.environ.update(dict(item.split("=", 1) for item in environ if "=" in item))
        url = probe_url([w for w in cmdline if w], proc.joinpath("cwd").resolve(), args.probe)
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            return 0 if response.status == 200 else 1
    except Exception as exc:  # any failure is an unhealthy answer, said on stderr
        print(f"{args.probe} probe failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
