"""OpenTelemetry trace export (the `otel` cargo feature): a datagate built with it,
given the standard OTEL_* variables, sends each request's span to an OTLP/HTTP
receiver (here a small HTTP server standing in for the collector, which checks what
arrives: protobuf, the service name, the request's URI).

The default build has no `otel`: the test needs DATAGATE_OTEL_BIN, a binary built with
`--features otel,fixtures` (scripts/check-otel.sh does both), and is skipped without it.
"""

import http.server
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from conftest import _die_with_parent
from s3server import free_port

OTEL_BIN = os.environ.get("DATAGATE_OTEL_BIN")

pytestmark = pytest.mark.skipif(
    not OTEL_BIN, reason="DATAGATE_OTEL_BIN unset (a binary built with --features otel)"
)


class Receiver(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Receiver.received.append((self.path, self.headers.get("Content-Type"), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_request_spans_reach_an_otlp_collector(fixtures_dir):
    port = free_port()
    collector = http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    server_port = free_port()
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_SERVICE_NAME": "datagate-under-test",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    proc = subprocess.Popen(
        [OTEL_BIN, "serve", str(fixtures_dir), "--bind", f"127.0.0.1:{server_port}"],
        preexec_fn=_die_with_parent, stdout=subprocess.DEVNULL, stderr=sys.stderr, env=env,
    )
    try:
        base = f"http://127.0.0.1:{server_port}"
        deadline = time.time() + 30
        while True:
            try:
                requests.get(base + "/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert time.time() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert requests.get(base + "/opendap/sst_classic.nc.dds", timeout=10).status_code == 200
        # The second is a replay (answered before routing): it has its span too.
        for _ in range(2):
            assert requests.get(base + "/opendap/sst_classic.nc.das", timeout=10).ok
    finally:
        # Spans still batched are flushed at exit.
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        collector.shutdown()
    traces = [r for r in Receiver.received if r[0] == "/v1/traces"]
    assert traces, Receiver.received
    assert all(ct == "application/x-protobuf" for _, ct, _ in traces)
    body = b"".join(b for _, _, b in traces)
    assert b"datagate-under-test" in body
    assert b"/opendap/sst_classic.nc.dds" in body
    assert body.count(b"/opendap/sst_classic.nc.das") >= 2
    assert b"replayed" in body
