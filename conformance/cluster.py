"""Running datagate replicas behind nginx with the shipped deploy/nginx/datagate.conf,
for conformance/test_cluster.py and scripts/bench-cluster.py."""

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import requests

from conftest import BIN, _die_with_parent
from s3server import free_port

NGINX_CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "datagate.conf"


def nginx_exe():
    return shutil.which("nginx") or "/usr/sbin/nginx"


class Replica:
    """One `datagate serve` process on a fixed loopback port (restartable on it)."""

    def __init__(self, config, env):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config, self.env = config, env
        self.proc = None
        self.log_lines = []

    def start(self, wait=True, first=False):
        """Starts the process; on its first start (before nginx knows the port), a port
        taken meanwhile by another process is given up for a new one."""
        for _ in range(3):
            self._spawn()
            if not wait:
                return
            try:
                self.wait_ready()
                return
            except RuntimeError:
                if not (first and any("cannot listen" in line for line in self.log_lines)):
                    raise
                self.port = free_port()
                self.base = f"http://127.0.0.1:{self.port}"
        raise RuntimeError("replica could not bind a port")

    def _spawn(self):
        self.log_lines = []
        self.proc = subprocess.Popen(
            [BIN, "serve", "--config", str(self.config), "--bind", f"127.0.0.1:{self.port}"],
            preexec_fn=_die_with_parent,
            stdout=subprocess.PIPE,
            # Its errors too (a port taken: see `start`).
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **self.env},
        )
        threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()

    def _drain(self, proc):
        for line in proc.stdout:
            self.log_lines.append(line)

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"replica exited with {self.proc.returncode}")
            try:
                # Ready, and answered by this process (not another one on the port).
                if (
                    requests.get(self.base + "/readyz", timeout=2).status_code == 200
                    and any("listening on" in line for line in self.log_lines)
                ):
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError("replica not ready")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def nginx_config(work, replicas, port, hashed=True):
    """The shipped nginx include with this cluster's addresses, in a main config that
    runs unprivileged under `work`; `hashed=False` drops the hashing (round robin, for
    comparison)."""
    text = NGINX_CONF.read_text()
    if not hashed:
        text, n = re.subn(r"\n    hash \$datagate_dataset consistent;", "", text)
        assert n == 1
    servers = "\n".join(
        f"    server 127.0.0.1:{r.port} max_fails=1 fail_timeout=1s;" for r in replicas
    )
    text, n = re.subn(r"(?:    server 127\.0\.0\.1:808\d [^\n]*\n)+", servers + "\n", text)
    assert n == 1, "the upstream's server lines moved: update this test"
    text, n = re.subn(r"listen 8080;", f"listen 127.0.0.1:{port};", text)
    assert n == 1
    (work / "datagate.conf").write_text(text)
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"  {k}_temp_path {work}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = f"""{user}worker_processes 2;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
  log_format up '$request_uri $datagate_dataset $upstream_addr $status';
  access_log {work}/access.log up;
{temp}
  include {work}/datagate.conf;
}}
"""
    (work / "nginx.conf").write_text(main)
    return work / "nginx.conf"


class Nginx:
    """nginx in the foreground, unprivileged, on a free loopback port."""

    def __init__(self, work, replicas, hashed=True):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        conf = nginx_config(work, replicas, self.port, hashed)
        self.proc = subprocess.Popen(
            [nginx_exe(), "-c", str(conf), "-p", str(work), "-e", str(work / "error.log")],
            preexec_fn=_die_with_parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.time() + 15
        while True:
            try:
                requests.get(self.base + "/healthz", timeout=2).raise_for_status()
                return
            except requests.RequestException:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"nginx did not start: {self.proc.stderr.read()!r}")
                time.sleep(0.1)

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
