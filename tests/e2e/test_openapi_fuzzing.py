"""Schemathesis against every service as a real process: generated requests from each
service's own OpenAPI document; no 5xx, and every response as the document says."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e

SERVICES = ("registry", "tiering", "incubators", "notifications", "auth")
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
KEY_OWNERS = {
    "registry": ("admin", "admin"),
    "tiering": ("admin", "admin"),
    "incubators": ("incubator", "JL-INC-0001"),
    "notifications": ("admin", "admin"),
}
NEEDS = {"incubators": ("registry",)}  # services whose answers a service relies on (RPC)


def schemathesis(base_url, key, report):
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "2025",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    if key:
        command += ["--header", f"Authorization: Bearer {key}"]
    env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""}
    return subprocess.run(  # in the report's folder: schemathesis keeps a cache where it runs
        command, capture_output=True, text=True, timeout=600, env=env, cwd=report.parent
    )


@pytest.mark.parametrize("service", SERVICES)
def test_generated_requests_get_no_5xx_and_documented_answers(
    service, run_service, config_for, tmp_path, keys
):
    if service != "auth":
        run_service("auth", config_for("auth"))
    config = config_for(service)
    for needed in NEEDS.get(service, ()):
        run_service(needed, config_for(needed))
    process = run_service(service, config)
    document = requests.get(f"{process.base_url}/openapi.json", timeout=5).json()
    assert document["openapi"].startswith("3.1") and document["paths"]
    key = keys.issue(*KEY_OWNERS[service]) if service in KEY_OWNERS else None

    done = schemathesis(process.base_url, key, tmp_path / "junit.xml")
    output = done.stdout + done.stderr
    (tmp_path / "schemathesis.txt").write_text(output)
    assert done.returncode == 0, output[-6000:]
    cases = sum(int(n) for n in re.findall(r"(\d+) generated", output))
    print(f"{service}: {cases} generated test cases, {len(document['paths'])} paths")
    assert cases > 0, output[-3000:]
    assert " ERROR " not in process.log()  # unexpected errors are logged at ERROR
