"""Generated documentation: shell completions and man pages, written from the app itself.

`python -m mistral_cli.docgen` (or `scripts/gen-docs`) rewrites `completions/` and `man/`
in the repository (each file under the name its shell looks for, so pyproject.toml installs
them as they are into share/); `--check` only compares and exits 1 when a file is stale. Nothing in these
folders is written by hand: change a command's help, options or epilog, then regenerate.
"""

from __future__ import annotations

from pathlib import Path

COMPLETIONS = "completions"
MAN = "man"


def render() -> dict[str, str]:
    """Every generated file by path relative to the repo."""
    from mistral_cli.docgen import completion, man
    from mistral_cli.docgen.tree import build_tree

    tree = build_tree()
    files = {
        f"{COMPLETIONS}/bash/mcli": completion.bash(tree),
        f"{COMPLETIONS}/zsh/_mcli": completion.zsh(tree),
        f"{COMPLETIONS}/fish/mcli.fish": completion.fish(tree),
    }
    files.update({f"{MAN}/{name}": text for name, text in man.pages(tree).items()})
    return files


def stale_pages(root: Path, files: dict[str, str]) -> list[Path]:
    """Man pages under ROOT that the current app no longer generates."""
    folder = root / MAN
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("mcli*.1") if f"{MAN}/{p.name}" not in files)


def write(root: Path, files: dict[str, str]) -> list[str]:
    """Write FILES under ROOT (only those that changed), drop stale pages; return what changed."""
    changed = []
    for relative, text in sorted(files.items()):
        path = root / relative
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        changed.append(relative)
    for path in stale_pages(root, files):
        path.unlink()
        changed.append(f"{MAN}/{path.name} (removed)")
    return changed


def differences(root: Path, files: dict[str, str]) -> list[str]:
    """The files under ROOT that differ from FILES (missing, changed or stale)."""
    out = [relative for relative, text in sorted(files.items())
           if not (root / relative).exists() or (root / relative).read_text(encoding="utf-8") != text]
    return out + [f"{MAN}/{path.name}" for path in stale_pages(root, files)]


def repo_root() -> Path:
    """The checkout this package lives in (the folder holding pyproject.toml)."""
    return Path(__file__).resolve().parents[2]
