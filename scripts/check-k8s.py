#!/usr/bin/env python3
"""Validates the Kubernetes manifests: renders deploy/k8s/base and every overlay with
`kubectl kustomize`, validates each resource against the Kubernetes schemas
(kubernetes-validate, strict: unknown fields are errors), then checks what the
schemas cannot: the probes hit /readyz and /healthz, shutdown fits the grace period,
selectors match the pods, the HPA and PDB point at the Deployment, the mounted
configuration is one datagate accepts, the ingress hashes by the dataset id with
the map of deploy/nginx/datagate.conf.

    scripts/check-k8s.py [--datagate BIN]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
# The oldest Kubernetes the manifests are meant for, and the newest schemas known.
VERSIONS = ["1.29.0", None]


def render(path):
    if not shutil.which("kubectl"):
        sys.exit("kubectl (with its built-in kustomize) is needed to render the manifests")
    out = subprocess.run(
        ["kubectl", "kustomize", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return out, [d for d in yaml.safe_load_all(out) if d]


def validator():
    exe = Path(sys.executable).parent / "kubernetes-validate"
    return str(exe) if exe.exists() else "kubernetes-validate"


def schema_check(text, label):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    try:
        for version in VERSIONS:
            cmd = [validator(), "--strict", "--quiet", f.name]
            if version:
                cmd[1:1] = ["-k", version]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"{label} (Kubernetes {version or 'latest'}): {r.stdout}{r.stderr}")
    finally:
        os.unlink(f.name)


def one(docs, kind):
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind}s"
    return found[0]


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def nginx_map():
    text = (ROOT / "deploy" / "nginx" / "datagate.conf").read_text()
    return re.search(r"^map \$uri \$datagate_dataset \{.*?^\}", text, re.S | re.M).group(0)


def check_config(datagate, text, label):
    """`datagate check` must accept the settings (exit 2 = the file is invalid; 1 =
    datasets unreadable, expected here: no store is reachable)."""
    if not datagate:
        return
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "datagate.toml"
        path.write_text(text)
        env = {
            **os.environ,
            "DATAGATE_STORAGE__S3__ENDPOINT": "http://127.0.0.1:9",
            "DATAGATE_STORAGE__MAX_RETRIES": "0",
            "DATAGATE_STORAGE__CONNECT_TIMEOUT_SECS": "1",
            "DATAGATE_STORAGE__FILE_CACHE_DIR": d,
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_REGION": "us-east-1",
        }
        r = subprocess.run(
            [datagate, "check", "--config", str(path)], capture_output=True, text=True, env=env,
            timeout=120,
        )
        if r.returncode not in (0, 1) or "deprecated" in r.stdout:
            sys.exit(f"{label}: datagate check: {r.returncode}\n{r.stdout}{r.stderr}")


def check(path, datagate):
    label = str(path.relative_to(ROOT))
    text, docs = render(path)
    schema_check(text, label)
    deploy = one(docs, "Deployment")
    pod = deploy["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert matches(deploy["spec"]["selector"]["matchLabels"], labels)
    c = pod["spec"]["containers"][0]
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", label
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", label
    # Readiness must fail before the listener closes: preStop sleep, then drain.
    sleep = int(c["lifecycle"]["preStop"]["exec"]["command"][-1])
    cm = one(docs, "ConfigMap")
    config = cm["data"]["datagate.toml"]
    drain = int(re.search(r"^drain_secs = (\d+)", config, re.M).group(1))
    timeout = int(re.search(r"^request_timeout_secs = (\d+)", config, re.M).group(1))
    grace = pod["spec"]["terminationGracePeriodSeconds"]
    assert sleep + drain + timeout <= grace, (label, sleep, drain, timeout, grace)
    assert drain > 0 and c["readinessProbe"]["periodSeconds"] <= drain, label
    mounted = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert mounted["config"]["configMap"]["name"] == cm["metadata"]["name"], label
    assert "/etc/datagate/datagate.toml" in c["args"], label
    secret = one(docs, "Secret")["metadata"]["name"]
    assert secret in [e["secretRef"]["name"] for e in c.get("envFrom", [])], label
    assert matches(one(docs, "Service")["spec"]["selector"], labels), label
    assert matches(one(docs, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"], labels)
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deploy["metadata"]["name"], label
    assert hpa["spec"]["minReplicas"] <= deploy["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]
    ingresses = [d for d in docs if d["kind"] == "Ingress"]
    for ing in ingresses:
        notes = ing["metadata"]["annotations"]
        assert notes["nginx.ingress.kubernetes.io/upstream-hash-by"] == "$datagate_dataset"
        snippet = yaml.safe_load((path / "ingress-nginx-snippet.yaml").read_text())
        assert snippet["data"]["http-snippet"].strip() == nginx_map().strip(), (
            "the ingress snippet's map differs from deploy/nginx/datagate.conf's"
        )
        backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
        assert backend == one(docs, "Service")["metadata"]["name"]
    check_config(datagate, config, label)
    print(f"{label}: {len(docs)} resources valid "
          f"({deploy['spec']['replicas']} replicas, {len(ingresses)} ingress)")
    return deploy


def check_unrendered(datagate):
    """Without kubectl (not packaged for Debian 12 in a version that knows these
    kustomizations): each complete resource file is validated as it is, and each
    catalog configuration with `datagate check`; the cross-resource checks need the
    rendered output and are skipped, saying so."""
    print("kubectl not installed: validating resource files one by one, "
          "without kustomize rendering or the cross-resource checks")
    dirs = [K8S / "base", *sorted((K8S / "overlays").iterdir())]
    for d in dirs:
        listed = yaml.safe_load((d / "kustomization.yaml").read_text())
        patches = {p["path"] for p in listed.get("patches", []) if "path" in p}
        for name in listed.get("resources", []):
            f = d / name
            if f.is_file() and name not in patches:
                schema_check(f.read_text(), str(f.relative_to(ROOT)))
        for gen in listed.get("configMapGenerator", []):
            for name in gen.get("files", []):
                if name.endswith(".toml"):
                    check_config(datagate, (d / name).read_text(), str((d / name).relative_to(ROOT)))
    print("kubernetes manifests: resource files valid (rendering skipped)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--datagate", help="binary for `datagate check` of the ConfigMaps")
    args = parser.parse_args()
    if not shutil.which("kubectl"):
        check_unrendered(args.datagate)
        return
    check(K8S / "base", args.datagate)
    overlays = sorted((K8S / "overlays").iterdir())
    for overlay in overlays:
        deploy = check(overlay, args.datagate)
        if overlay.name == "example":
            assert deploy["spec"]["replicas"] == 3
    print("kubernetes manifests: ok")


if __name__ == "__main__":
    main()
