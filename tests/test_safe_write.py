"""safe_files, the one helper for files written from server data: names stay plain, no symlink
is followed, an existing file is kept unless force, a failed write (a full disk) leaves nothing
behind and names the file. The end-to-end cases for each command are in test_batch.py,
test_ocr.py and test_files.py; the full-disk cases here run through `mcli ocr --output-dir`."""

from __future__ import annotations

import base64
import errno
import os
import resource
import stat
import subprocess
import sys

import pytest

from mistral_cli import safe_files
from mistral_cli.errors import MCLIError, UsageError
from tests.fakeapi import json_response
from tests.ocr_helpers import ocr_body, page, png_bytes


def ordinary_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@pytest.fixture(params=["dir_fd", "paths"])
def os_calls(request, monkeypatch):
    """Each test of the helper itself runs twice: with a folder descriptor (Linux, macOS) and with plain paths
    (where the OS takes no dir_fd)."""
    monkeypatch.setattr(safe_files, "USES_DIR_FD", request.param == "dir_fd" and safe_files.USES_DIR_FD)


@pytest.fixture
def folder(tmp_path, os_calls):
    """An empty folder to write into."""
    path = tmp_path / "folder"
    path.mkdir()
    return path


# -- names -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../x", "../../x.output.jsonl", "/tmp/abs", "a/b", "..", ".", "",
                                  "a\\b", "nul\x00byte", "line\nbreak", "esc\x1b[2J", "x" * 256])
def test_a_name_that_is_not_one_plain_component_is_refused(folder, name):
    with pytest.raises(UsageError, match="not a plain file name"):
        safe_files.write_bytes(folder, name, b"data")
    assert os.listdir(folder) == []


@pytest.mark.parametrize("name", ["page-000.md", "3fa85f64-5717-4562-b3fc-2c963f66afa6.output.jsonl",
                                  "résumé final.pdf", "..hidden-but-plain"])
def test_a_plain_name_is_written_inside_the_folder(folder, name):
    path = safe_files.write_bytes(folder, name, b"data")
    assert path == folder / name and path.read_bytes() == b"data"
    assert os.listdir(folder) == [name]


# -- writing -----------------------------------------------------------------------------


def test_a_new_file_gets_the_ordinary_mode_and_no_temporary_file_stays(folder):
    with safe_files.open_new(folder, "out.bin") as handle:
        handle.write(b"a" * 100_000)
        [temp] = os.listdir(folder)  # while writing, only the temporary file exists
        assert temp.startswith(".out.bin.") and temp.endswith(".part")
    assert os.listdir(folder) == ["out.bin"]
    assert stat.S_IMODE((folder / "out.bin").stat().st_mode) == ordinary_mode()


def test_an_existing_file_is_kept_without_force_and_replaced_with_it(folder):
    (folder / "out.md").write_text("keep me")
    with pytest.raises(UsageError, match="already exists; use --force"):
        safe_files.write_bytes(folder, "out.md", b"new")
    assert (folder / "out.md").read_text() == "keep me"
    safe_files.write_bytes(folder, "out.md", b"new", force=True)
    assert (folder / "out.md").read_bytes() == b"new"
    assert os.listdir(folder) == ["out.md"]


def test_a_file_that_appears_while_writing_is_kept(folder):
    with pytest.raises(UsageError, match="already exists"):
        with safe_files.open_new(folder, "out.md") as handle:
            handle.write(b"new")
            (folder / "out.md").write_text("written meanwhile")
    assert (folder / "out.md").read_text() == "written meanwhile"
    assert os.listdir(folder) == ["out.md"]


def test_without_hard_links_an_existing_file_is_still_kept(folder, monkeypatch):
    def no_links(*_args, **_kwargs):
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(safe_files.os, "link", no_links)  # as on FAT or some network shares
    safe_files.write_bytes(folder, "new.md", b"new")
    (folder / "old.md").write_text("keep me")
    with pytest.raises(UsageError, match="already exists"):
        with safe_files.open_new(folder, "late.md") as handle:
            handle.write(b"late")
            (folder / "late.md").write_text("written meanwhile")
    assert (folder / "new.md").read_bytes() == b"new" and (folder / "late.md").read_text() == "written meanwhile"
    assert sorted(os.listdir(folder)) == ["late.md", "new.md", "old.md"]


def test_a_planted_symlink_is_never_followed(tmp_path, os_calls):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "page-000.md").symlink_to(victim)
    (folder / "dangling.md").symlink_to(tmp_path / "created-through-the-link")
    for name in ("page-000.md", "dangling.md"):
        with pytest.raises(UsageError, match="already exists"):
            safe_files.write_bytes(folder, name, b"evil")
    assert victim.read_text() == "precious" and not (tmp_path / "created-through-the-link").exists()
    safe_files.write_bytes(folder, "page-000.md", b"text", force=True)  # the link itself is replaced
    assert not (folder / "page-000.md").is_symlink() and (folder / "page-000.md").read_bytes() == b"text"
    assert victim.read_text() == "precious"


def test_a_planted_symlink_under_the_temporary_name_is_not_followed(tmp_path, monkeypatch, os_calls):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = tmp_path / "out"
    folder.mkdir()
    tokens = iter(["aaaaaaaa", "bbbbbbbb"])
    monkeypatch.setattr(safe_files, "random_part", lambda: next(tokens))
    (folder / f"{safe_files.temp_prefix('out.md')}{os.getpid()}-aaaaaaaa.part").symlink_to(victim)
    safe_files.write_bytes(folder, "out.md", b"text")
    assert victim.read_text() == "precious"
    assert (folder / "out.md").read_bytes() == b"text"
    assert next(tokens, None) is None  # the planted name was tried, and passed over


@pytest.mark.parametrize("make", [os.mkfifo, os.mkdir], ids=["pipe", "folder"])
def test_what_is_not_a_regular_file_is_never_replaced_even_with_force(folder, make):
    make(folder / "out.bin")
    with pytest.raises(UsageError, match="is not a regular file"):
        safe_files.write_bytes(folder, "out.bin", b"data", force=True)
    assert os.listdir(folder) == ["out.bin"]


def test_a_missing_folder_is_a_usage_error_naming_it(tmp_path, os_calls):
    with pytest.raises(UsageError, match="no such folder") as caught:
        safe_files.write_bytes(tmp_path / "nope", "out.md", b"x")
    assert str(tmp_path / "nope") in caught.value.message


def test_an_interrupted_write_leaves_nothing(folder):
    with pytest.raises(KeyboardInterrupt):
        with safe_files.open_new(folder, "out.bin") as handle:
            handle.write(b"partial")
            raise KeyboardInterrupt
    assert os.listdir(folder) == []


# -- a full disk -------------------------------------------------------------------------


class FullDisk:
    """A binary handle on a disk that fills up after LIMIT bytes (ENOSPC, as write(2) says)."""

    def __init__(self, handle, limit: int):
        self._handle = handle
        self._room = limit

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            self._handle.write(data[: self._room])
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._handle.write(data)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@pytest.fixture
def full_disk(monkeypatch):
    """Files opened by safe_files get room for 10 bytes."""
    real = os.fdopen
    monkeypatch.setattr(safe_files.os, "fdopen", lambda fd, mode="r", *a, **k: FullDisk(real(fd, mode, *a, **k), 10))


def test_a_full_disk_leaves_no_partial_file_and_names_the_file(folder, full_disk):
    (folder / "out.bin").write_text("old")
    with pytest.raises(MCLIError) as caught:
        safe_files.write_bytes(folder, "out.bin", b"x" * 1000, force=True)
    assert caught.value.message == (f"cannot save to {folder / 'out.bin'}: No space left on device; "
                                    "nothing was saved")
    assert caught.value.exit_code == 1
    assert os.listdir(folder) == ["out.bin"] and (folder / "out.bin").read_text() == "old"


def test_ocr_output_dir_on_a_full_disk(api, cli, tmp_path, full_disk):
    image = {"id": "img-0.png", "image_base64": base64.b64encode(png_bytes()).decode()}
    api.add("POST", "/v1/ocr", json_response(ocr_body(page(0, "![a](img-0.png)", [image]))))
    document = tmp_path / "scan.png"
    document.write_bytes(png_bytes())
    out = tmp_path / "out"
    result = cli("ocr", document, "--output-dir", out)
    assert result.exit_code == 1
    assert f"cannot save to {out / 'page-000-img-0.png'}: No space left on device" in result.stderr
    assert os.listdir(out) == []


def test_a_real_write_failure_in_a_process_leaves_no_truncated_image(api, tmp_path):
    """RLIMIT_FSIZE makes the kernel refuse writes past a size (EFBIG), as a full disk does
    (ENOSPC): a real failed write(2), in a real process."""
    big = png_bytes() + os.urandom(300_000)
    image = {"id": "img-0.png", "image_base64": base64.b64encode(big).decode()}
    api.add("POST", "/v1/ocr", json_response(ocr_body(page(0, "![a](img-0.png)", [image]))))
    document = tmp_path / "scan.png"
    document.write_bytes(png_bytes())
    out = tmp_path / "out"
    limit = 200_000

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run([sys.executable, "-m", "mistral_cli", "ocr", str(document), "--output-dir", str(out)],
                          capture_output=True, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
                          cwd=tmp_path, timeout=60, preexec_fn=small_files)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1, stderr
    assert f"cannot save to {out / 'page-000-img-0.png'}: File too large; nothing was saved" in stderr
    assert os.listdir(out) == []
