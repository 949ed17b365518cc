"""The key round-trips through a real Secret Service: gnome-keyring on a private D-Bus session.

`dbus-run-session` starts a throwaway session bus; inside it a driver script starts
`gnome-keyring-daemon --foreground --unlock --components=secrets` (the password on stdin,
keyrings under a temporary HOME), then runs `mcli auth login --with-key-stdin`,
`auth status -o json`, `auth token` and `auth logout` with
PYTHON_KEYRING_BACKEND=keyring.backends.SecretService.Keyring, and reads the item back
with secretstorage directly. `.ci/system-deps.sh` installs the binaries; without them the
test is skipped, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BINARIES = ("dbus-run-session", "gnome-keyring-daemon")
KEY = "real-keyring-key-Xy7Qp2Lm9Rt4"

pytestmark = pytest.mark.skipif(
    any(shutil.which(name) is None for name in BINARIES),
    reason="needs " + " and ".join(BINARIES) + " (run `bash .ci/system-deps.sh` as root to install them)")

DRIVER = r'''
import json, os, subprocess, sys, time

def mcli(*args, input=b""):
    proc = subprocess.run([sys.executable, "-m", "mistral_cli", *args], input=input,
                          capture_output=True, timeout=60)
    return {"rc": proc.returncode, "out": proc.stdout.decode(), "err": proc.stderr.decode()}

def wait_for_secret_service(daemon):
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection
    bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                      interface="org.freedesktop.DBus")
    with open_dbus_connection(bus="SESSION") as conn:
        for _ in range(200):
            reply = conn.send_and_get_reply(new_method_call(bus, "NameHasOwner", "s",
                                                            ("org.freedesktop.secrets",)))
            if reply.body[0]:
                return
            if daemon.poll() is not None:
                raise SystemExit(f"gnome-keyring-daemon exited with {daemon.returncode}")
            time.sleep(0.05)
    raise SystemExit("the Secret Service did not appear on the session bus")

def stored_items():
    import secretstorage
    with secretstorage.dbus_init() as conn:
        items = secretstorage.search_items(conn, {"service": "mcli", "username": "default"})
        return [item.get_secret().decode() for item in items]

daemon = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
try:
    daemon.stdin.write(os.environ["TEST_KEYRING_PASSWORD"].encode())
    daemon.stdin.close()
    wait_for_secret_service(daemon)
    key = os.environ["TEST_KEY"].encode()
    steps = {
        "login": mcli("auth", "login", "--with-key-stdin", input=key),
        "status": mcli("auth", "status", "-o", "json"),
        "token": mcli("auth", "token"),
    }
    steps["items"] = stored_items()
    steps["logout"] = mcli("auth", "logout")
    steps["items_after_logout"] = stored_items()
    steps["token_after_logout"] = mcli("auth", "token")
    print(json.dumps(steps))
finally:
    daemon.terminate()
    try:
        daemon.wait(10)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()
'''


def files_under(*folders: Path) -> list[Path]:
    return [path for folder in folders for path in folder.rglob("*") if path.is_file()]


def test_key_round_trips_through_gnome_keyring(api, tmp_path):
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    environ = {name: value for name, value in os.environ.items()
               if name not in ("MISTRAL_API_KEY", "DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL")}
    environ.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local/share"),
                   XDG_RUNTIME_DIR=str(runtime), TEST_KEY=KEY, TEST_KEYRING_PASSWORD="test-password",
                   PYTHON_KEYRING_BACKEND="keyring.backends.SecretService.Keyring")

    proc = subprocess.run(["dbus-run-session", "--", sys.executable, str(driver)], env=environ,
                          capture_output=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    steps = json.loads(proc.stdout)

    assert steps["login"]["rc"] == 0, steps["login"]
    assert "OS keyring" in steps["login"]["err"]
    assert api.last("GET", "/v1/models").headers["Authorization"] == f"Bearer {KEY}"

    assert steps["status"]["rc"] == 0, steps["status"]
    status = json.loads(steps["status"]["out"])
    assert status["source"].startswith("OS keyring")
    assert status["key"] == "****" + KEY[-4:]
    assert status["verified"] is True
    assert steps["token"] == {"rc": 0, "out": KEY + "\n", "err": ""}
    assert steps["items"] == [KEY]  # read straight from the Secret Service

    for step in ("login", "status"):
        assert KEY not in steps[step]["out"] + steps[step]["err"]
    config_dir, data_dir = Path(os.environ["MCLI_CONFIG_DIR"]), Path(os.environ["MCLI_DATA_DIR"])
    for path in files_under(config_dir, data_dir, home):
        assert KEY.encode() not in path.read_bytes(), f"the key is in {path}"
    assert not (config_dir / "credentials.toml").exists()
    assert not Path(os.environ["MCLI_TEST_KEYRING_FILE"]).exists(), "the test double was used"
    assert list((home / ".local/share/keyrings").glob("*.keyring")), "gnome-keyring stored nothing"

    assert steps["logout"]["rc"] == 0 and "OS keyring" in steps["logout"]["err"]
    assert steps["items_after_logout"] == []
    assert steps["token_after_logout"]["rc"] == 3
