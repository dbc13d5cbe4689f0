"""A real Azure Blob Storage emulator on a free loopback port: Azurite (npm, installed
into conformance/.work/node).

No Google Cloud Storage server is tested: gcp-storage-emulator (PyPI) implements only
GCS's JSON API, and object_store's GCS client uses the XML API (HEAD, list-type=2),
which it answers with 501."""

import os
import subprocess
import time

import requests

from s3server import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, ".work", "node")
BUCKET = "datagate-test"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def _wait(url, proc, name):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{name} did not start")


def install_azurite():
    """Azurite from the npm registry, once per checkout."""
    exe = os.path.join(NODE_DIR, "node_modules", ".bin", "azurite-blob")
    if not os.path.exists(exe):
        os.makedirs(NODE_DIR, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", NODE_DIR, "azurite@3"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return exe


class Azurite:
    """Azurite's Blob service, in memory."""

    def __init__(self):
        exe = install_azurite()
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [exe, "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--inMemoryPersistence",
             "--skipApiVersionCheck", "--silent"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self.endpoint, self.proc, "azurite")
        from azure.storage.blob import BlobServiceClient

        conn = (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={self.endpoint}/devstoreaccount1;"
        )
        self.client = BlobServiceClient.from_connection_string(conn)
        self.client.create_container(BUCKET)

    def upload_dir(self, directory, prefix):
        container = self.client.get_container_client(BUCKET)
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    container.upload_blob(f"{prefix}/{name}", f, overwrite=True)

    def config_toml(self, prefix):
        lines = ["[storage]", "max_retries = 1", "[storage.azure]", "use_emulator = true"]
        lines += ["[[roots]]", f'path = "{prefix}"']
        return "\n".join(lines) + "\n"

    def env(self):
        # object_store's emulator mode reads the Blob endpoint from here.
        return {"AZURITE_BLOB_STORAGE_URL": self.endpoint}

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
