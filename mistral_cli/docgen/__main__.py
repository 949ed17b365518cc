"""`python -m mistral_cli.docgen [--out DIR] [--check]`: (re)write completions and man pages."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mistral_cli.docgen import differences, render, repo_root, write


def main(argv: list[str] | None = None) -> int:
    """Generate into the repo (or --out DIR); with --check, report stale files and exit 1."""
    parser = argparse.ArgumentParser(prog="python -m mistral_cli.docgen", description=__doc__)
    parser.add_argument("--out", type=Path, default=None, help="target folder (default: the repository)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is stale")
    args = parser.parse_args(argv)
    root = args.out or repo_root()
    files = render()
    if args.check:
        stale = differences(root, files)
        if stale:
            print(f"docgen: stale: {', '.join(stale)} (regenerate with scripts/gen-docs)", file=sys.stderr)
            return 1
        print(f"docgen: the {len(files)} generated files in {root} are current")
        return 0
    changed = write(root, files)
    print(f"docgen: {len(files)} files in {root}, {len(changed)} changed"
          + "".join(f"\n  {c}" for c in changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
