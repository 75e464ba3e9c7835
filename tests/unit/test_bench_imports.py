"""Every benchmark scenario imports: they are run by hand (`make bench`), not by the suite, so a
renamed module or function they use would otherwise surface only then."""

import importlib
import pkgutil

import bench


def test_every_bench_module_imports():
    names = [m.name for m in pkgutil.walk_packages(bench.__path__, "bench.")]
    assert "bench.pipeline" in names and "bench.portal_pages" in names
    for name in names:
        importlib.import_module(name)
