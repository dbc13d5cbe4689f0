"""A real S3-compatible server for the suites: moto's server on a free loopback port."""

import os
import socket
import subprocess
import sys
import time

import boto3
import requests

BUCKET = "datagate-test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        exe = os.path.join(os.path.dirname(sys.executable), "moto_server")
        self.proc = subprocess.Popen(
            [exe, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                requests.get(self.endpoint, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("moto_server did not start")
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        self.client.create_bucket(Bucket=BUCKET)

    def upload_dir(self, directory, prefix):
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                self.client.upload_file(path, BUCKET, f"{prefix}/{name}")

    def config_toml(self, cache_dir, roots, revalidate_secs=2, timeout_secs=5, storage=(),
                    readers=()):
        """A datagate config whose [[roots]] are `roots` (s3:// URLs or local paths);
        `storage`, `readers`: more `key = value` lines for those sections."""
        lines = [
            "[readers]",
            *readers,
            "[storage]",
            *storage,
            f"revalidate_secs = {revalidate_secs}",
            f"timeout_secs = {timeout_secs}",
            "connect_timeout_secs = 2",
            "max_retries = 1",
            f'file_cache_dir = "{cache_dir}"',
            "[storage.s3]",
            f'endpoint = "{self.endpoint}"',
            'region = "us-east-1"',
            'access_key_id = "test"',
            'secret_access_key = "test"',
            "allow_http = true",
        ]
        for root in roots:
            lines += ["[[roots]]", f'path = "{root}"']
        return "\n".join(lines) + "\n"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
