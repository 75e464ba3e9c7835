"""`python -m scripts.monitoring [--check]`: write the generated rule files, or fail (exit 1,
naming them) while any differs from what would be generated."""

from __future__ import annotations

import argparse
import sys

from scripts.monitoring.render import ROOT, files, schemas_dir


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.monitoring")
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args()
    stale = []
    for path, text in files(schemas_dir()).items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"out of date (run `make monitoring`): {', '.join(map(str, stale))}")
        return 1
    print("\n".join(f"wrote {path}" for path in stale) or "up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
