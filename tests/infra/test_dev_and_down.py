"""`make dev` in the background, then `make down` from another shell: nothing
the stack started is left (gateway, function instances, emulator), its ports
are free, and `make dev` ends.

Runs on ports of its own (MOTO_PORT + 200, gateway port + 200), so the main
stack is untouched.
"""

import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.request
import uuid

import pytest

from settings import REPO

pytestmark = pytest.mark.live

MOTO_PORT = int(os.environ.get("MOTO_PORT", "5055")) + 200
GATEWAY_PORT = int(os.environ.get("GATEWAY_LISTEN", "127.0.0.1:4000").rsplit(":", 1)[1]) + 200
GATEWAY = f"http://127.0.0.1:{GATEWAY_PORT}"
LOCAL = REPO / ".local"


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone in all but name.
    status = pathlib.Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def function_instances():
    """Pids of processes running function code of this gateway."""
    code = LOCAL / f"gateway-{GATEWAY_PORT}" / "functions"
    pids = []
    for proc in pathlib.Path("/proc").glob("[0-9]*"):
        try:
            if os.readlink(proc / "cwd").startswith(str(code)):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def answers(url):
    try:
        urllib.request.urlopen(url, timeout=2)
        return True
    except OSError:
        return False


def register():
    slug = f"devdown-{uuid.uuid4().hex[:8]}"
    body = {
        "name": "Dev down",
        "slug": slug,
        "tier": "free",
        "admin_email": f"admin@{slug}.example.com",
        "admin_password": "Dev-down-passw0rd",
    }
    request = urllib.request.Request(
        f"{GATEWAY}/tenants",
        data=json.dumps(body).encode(),
        # A registration's retries prove themselves with this key.
        headers={"content-type": "application/json", "idempotency-key": uuid.uuid4().hex + uuid.uuid4().hex},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


def test_make_down_from_another_shell_stops_everything_make_dev_started(tmp_path):
    env = dict(os.environ, MOTO_PORT=str(MOTO_PORT), GATEWAY_LISTEN=f"127.0.0.1:{GATEWAY_PORT}")
    make = lambda target: ["make", "--no-print-directory", "-C", str(REPO), target]  # noqa: E731
    subprocess.run(make("down"), env=env, capture_output=True, timeout=120)
    log = open(tmp_path / "dev.log", "w")
    dev = subprocess.Popen(make("dev"), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 900
        while not answers(f"{GATEWAY}/cognito/.well-known/jwks.json"):
            assert dev.poll() is None, "make dev ended early:\n" + (tmp_path / "dev.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "make dev did not bring the gateway up in 15 minutes"
            time.sleep(1)
        assert register() == 201  # runs the tenants and users functions
        gateway = int((LOCAL / f"gateway-{MOTO_PORT}.pid").read_text())
        moto = int((LOCAL / f"moto-{MOTO_PORT}.pid").read_text())
        instances = function_instances()
        assert len(instances) >= 2, instances

        down = subprocess.run(make("down"), env=env, capture_output=True, text=True, timeout=120)
        assert down.returncode == 0, down.stdout + down.stderr
        assert f"gateway (pid {gateway}) stopped" in down.stderr, down.stderr
        assert f"moto (pid {moto}) stopped" in down.stderr, down.stderr

        dev.wait(timeout=60)
        left = [pid for pid in [gateway, moto, *instances, *function_instances()] if alive(pid)]
        assert left == [], f"still running: {left}"
        assert port_free(MOTO_PORT) and port_free(GATEWAY_PORT)
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGTERM)
        subprocess.run(make("down"), env=env, capture_output=True, timeout=120)
        log.close()
