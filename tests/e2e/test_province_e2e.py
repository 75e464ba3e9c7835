"""A small province through the four real services, checked against the generator's own
ground truth, and its HTML report rendered in headless Chromium."""

import shutil
import subprocess
from pathlib import Path

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.support.browser import HEADLESS
from tools.province import generator, loader
from tools.report import collect, page

pytestmark = pytest.mark.e2e
REPORTS = Path(__file__).resolve().parents[2] / "reports"  # the repository's, wherever pytest runs
TIERS = ("unicorn", "gazelle", "eaglet", "none")


@pytest.fixture
def services(run_service, config_for):
    configs = {
        name: config_for(name)
        for name in ("auth", "registry", "tiering", "incubators", "notifications")
    }
    return {name: run_service(name, config) for name, config in configs.items()}, configs


def test_a_province_through_the_pipeline_matches_its_ground_truth(
    services, servers, tmp_path, keys
):
    running, configs = services
    amqp = configs["registry"]["AMQP_URI"]
    province = generator.Generator(2025, firms=300, carriers=8, incubated=150).generate()
    generator.write(province, tmp_path / "province")
    events, incubators, truth = generator.read(tmp_path / "province")

    endpoints = loader.Endpoints(
        amqp, servers.rabbit_api_uri, *(running[s].base_url for s in loader.SERVICE_ORDER)
    )
    result = loader.load(
        endpoints,
        events,
        incubators,
        {
            c["incubator_id"]: keys.issue("incubator", c["incubator_id"])
            for c in incubators["carriers"]
        },
        timeout=300,
    )
    assert result["drained"]
    assert [p["refused"] for p in result["incubator_posts"].values()] == [0, 0, 0], result
    with ClusterRpcProxy(configs["incubators"], timeout=60) as cluster:
        cluster.incubators.sweep(truth["reference_day"])  # open incubations as of that day

    report = collect.collect(
        collect.Sources(
            amqp,
            servers.rabbit_api_uri,
            running["tiering"].base_url,
            running["incubators"].base_url,
            keys.issue("service", "report"),
        )
    )
    assert report["tiers_total"] == {t: truth["tier_counts"].get(t, 0) for t in TIERS}
    for unit, counts in report["tiers_per_unit"].items():
        expected = truth["tiers_per_unit"].get(unit, {})
        assert counts == {t: expected.get(t, 0) for t in TIERS}, unit
    progress = report["progress"]
    assert progress["carriers"]["actual"] == truth["carriers"]
    assert progress["incubated_firms"]["actual"] == truth["incubated_firms"]
    assert progress["tech_smes_registered"]["actual"] == truth["tech_smes_registered"]
    by_unit = progress["by_unit"].values()
    assert sum(u["graduated"] for u in by_unit) == truth["incubations"]["graduated"]
    assert sum(u["exited"] for u in by_unit) == truth["incubations"]["exited"]
    assert sum(u["current"] for u in by_unit) == truth["incubations"]["current"]
    findings = report["findings"]["by_kind"]
    assert findings["late_admission"] == truth["late_admissions"]
    assert findings["incubation_overdue"] == truth["overdue_as_of_reference_day"]
    assert findings.get("graduation_unsupported", 0) == truth["graduations_unsupported"]
    assert truth["graduations_unsupported"] > 0  # the province has some to find
    assert report["rejections"]["by_reason"] == truth["rejections"]

    html = tmp_path / "report.html"
    html.write_text(page.render(report), encoding="utf-8")
    render_in_chromium(html, report, tmp_path)


def render_in_chromium(html: Path, report: dict, directory: Path) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: make test installs it (scripts/ensure-chromium.sh)"
    flags = [*HEADLESS, f"--user-data-dir={directory / 'chromium'}"]
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    total = sum(report["tiers_total"].values())
    for text in (
        "Firms per tier per unit",
        "长春市",
        "Rejected events",
        f"{report['tier_changes']['total']:,}",
        f"{total:,}" if total > 999 else "",
    ):
        assert text in dom, text
    assert dom.count("<svg") >= 4  # tiers, changes, progress bars, findings, rejections
    screenshot = directory / "report.png"
    subprocess.run(
        [chromium, *flags, f"--screenshot={screenshot}", "--window-size=1200,2400", html.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert screenshot.stat().st_size > 20_000
    if REPORTS.is_dir():  # kept for a person to look at, as `make run`'s report is
        shutil.copy(screenshot, REPORTS / "province-e2e.png")
