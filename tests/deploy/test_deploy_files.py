"""Static checks of the deployment files: Dockerfile, .dockerignore, docker-compose.yaml and deploy/k8s.

No Docker engine, cluster or network is needed. The files are parsed and cross-checked against what the
code declares - the console scripts in every pyproject.toml, the fields of ``Settings``, the region table
and the port settings - so a renamed setting, port or script fails here instead of in a rollout.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from openstatus_common.settings import ENV_PREFIX, Settings, load_settings
from openstatus_common.vocab import parse_region

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE_FILE = ROOT / "docker-compose.yaml"
K8S = ROOT / "deploy" / "k8s"
PRIVATE_PROBE = K8S / "private-probe"
CONSTRAINTS = "constraints.txt"

# Console script of each long-running service -> the setting holding its HTTP (or health) port.
SERVICE_PORT_FIELD = {
    "openstatus-api": "api_port",
    "openstatus-status-page": "status_page_port",
    "openstatus-scheduler": "scheduler_port",
    "openstatus-incident-engine": "incident_engine_port",
    "openstatus-notifier": "notifier_port",
    "openstatus-probe": "probe_port",
}
MIGRATE = "openstatus-migrate"
PROBE = "openstatus-probe"
DEPLOYED_SCRIPTS = frozenset({*SERVICE_PORT_FIELD, MIGRATE})
HOSTED_PROBE_REGIONS = {"ams", "iad", "syd"}
PLACEHOLDER = "CHANGE-ME"


# --- the packages and their console scripts --------------------------------------------------------


@dataclass(frozen=True)
class Package:
    directory: str  # relative to the repository root, e.g. "services/api"
    name: str  # distribution name, e.g. "openstatus-api"
    scripts: frozenset[str]
    modules: tuple[str, ...]  # import packages shipped in the wheel, relative to ``directory``


def _load_packages() -> tuple[Package, ...]:
    manifests = [
        ROOT / "libs" / "common" / "pyproject.toml",
        *sorted((ROOT / "services").glob("*/pyproject.toml")),
    ]
    packages = []
    for manifest in manifests:
        data = tomllib.loads(manifest.read_text())
        wheel = data.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
        packages.append(
            Package(
                directory=manifest.parent.relative_to(ROOT).as_posix(),
                name=data["project"]["name"],
                scripts=frozenset(data["project"].get("scripts", {})),
                modules=tuple(wheel.get("packages", ())),
            )
        )
    return tuple(packages)


PACKAGES = _load_packages()
PACKAGE_OF_SCRIPT = {script: package for package in PACKAGES for script in package.scripts}


def test_every_service_package_is_known_here() -> None:
    """A new service must get its port mapping here, so its health checks are verified too."""
    assert any(package.directory == "libs/common" for package in PACKAGES)
    assert MIGRATE in PACKAGE_OF_SCRIPT
    for package in PACKAGES:
        if package.directory.startswith("services/"):
            assert package.scripts, f"{package.directory} declares no console script"
            assert package.scripts <= set(SERVICE_PORT_FIELD), (
                f"unknown service scripts in {package.directory}"
            )
    assert set(SERVICE_PORT_FIELD) <= set(PACKAGE_OF_SCRIPT)


# --- settings ----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings must come from the files under test, not from the shell running pytest."""
    import os

    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


def check_settings(env: dict[str, str], where: str) -> Settings:
    """Every OPENSTATUS_* name is a Settings field, regions parse, and the whole set loads."""
    overrides: dict[str, str] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        field = name.removeprefix(ENV_PREFIX).lower()
        assert field in Settings.model_fields, f"{where}: {name} is not a setting"
        overrides[field] = value
    if "region" in overrides:
        parse_region(overrides["region"])
    if "regions" in overrides:
        parts = [part.strip() for part in overrides["regions"].split(",") if part.strip()]
        assert parts, f"{where}: OPENSTATUS_REGIONS is empty"
        for part in parts:
            parse_region(part)
    return load_settings(**overrides)


def service_port(script: str, settings: Settings) -> int:
    return int(getattr(settings, SERVICE_PORT_FIELD[script]))


def command_of(value: Any) -> list[str]:
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(part) for part in value]


# --- docker compose ----------------------------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")


def interpolate(value: str) -> str:
    """What compose makes of ``value`` with no variables set: ``${X:-default}`` -> default."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        op = match.group("op") or ""
        assert "?" not in op, f"compose requires ${{{match.group('name')}}} to be set"
        return match.group("arg") if op in (":-", "-") else ""

    return _INTERPOLATION.sub(replace, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


def our_compose_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Services running the image built from the root Dockerfile."""
    services = compose["services"]
    built = {svc["image"] for svc in services.values() if "build" in svc and "image" in svc}
    ours = {name: svc for name, svc in services.items() if "build" in svc or svc.get("image") in built}
    for svc in ours.values():
        build = svc.get("build")
        if build is not None:
            context = build if isinstance(build, str) else build.get("context", ".")
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            assert (ROOT / context / dockerfile).resolve() == DOCKERFILE
    return ours


def compose_env(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(name): interpolate("" if value is None else str(value)) for name, value in env.items()}


def test_compose_has_every_part(compose: dict[str, Any]) -> None:
    expected = {
        "postgres",
        "nats",
        "migrate",
        "api",
        "status-page",
        "scheduler",
        "incident-engine",
        "notifier",
        "probe-ams",
        "probe-iad",
        "probe-syd",
    }
    assert expected <= set(compose["services"])
    assert set(our_compose_services(compose)) == expected - {"postgres", "nats"}


def test_compose_commands_are_console_scripts(compose: dict[str, Any]) -> None:
    used = set()
    for name, svc in our_compose_services(compose).items():
        command = command_of(svc.get("command"))
        assert command, f"{name} must choose its service with `command` (the image has no entrypoint)"
        assert "entrypoint" not in svc, name
        assert command[0] in PACKAGE_OF_SCRIPT, f"{name}: {command[0]} is no console script"
        used.add(command[0])
    assert used == DEPLOYED_SCRIPTS


def test_compose_settings_are_valid(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, svc in our_compose_services(compose).items():
        settings = check_settings(compose_env(svc), f"compose {name}")
        assert settings.host == "0.0.0.0", f"{name} must listen on all interfaces in its container"
        assert settings.database_url.startswith("postgresql+asyncpg://"), name
        # Every host the settings name is a service of this file.
        assert urlsplit(settings.database_url).hostname in services, name
        for server in settings.nats_url.split(","):
            assert urlsplit(server.strip()).hostname in services, name


def test_compose_probes_cover_their_regions(compose: dict[str, Any]) -> None:
    regions: dict[str, str] = {}
    for name, svc in our_compose_services(compose).items():
        env = compose_env(svc)
        if command_of(svc.get("command"))[0] == PROBE:
            assert "OPENSTATUS_REGION" in env, f"{name} must say which region it serves"
            region = parse_region(env["OPENSTATUS_REGION"]).value
            assert region not in regions.values(), f"two probe services serve {region}"
            regions[name] = region
            served = {parse_region(part).value for part in env["OPENSTATUS_REGIONS"].split(",")}
            assert region in served, f"{name} serves {region}, not in OPENSTATUS_REGIONS"
        else:
            assert "OPENSTATUS_REGION" not in env, f"only probes have a region ({name})"
    assert regions == {f"probe-{region}": region for region in HOSTED_PROBE_REGIONS}


_HEALTH_URL = re.compile(r"http://(?:127\.0\.0\.1|localhost):(?P<port>\d+)(?P<path>/[A-Za-z0-9_/]*)")


def test_compose_healthchecks_ask_readyz_on_the_service_port(compose: dict[str, Any]) -> None:
    for name, svc in our_compose_services(compose).items():
        script = command_of(svc.get("command"))[0]
        if script == MIGRATE:
            assert "healthcheck" not in svc
            continue
        test = svc.get("healthcheck", {}).get("test")
        assert isinstance(test, list) and test[0] == "CMD", f"{name}: healthcheck must be exec form"
        assert test[1] in ("python", "python3"), f"{name}: the slim image has python, not curl or wget"
        assert test[2] == "-c"
        code = test[3]
        compile(code, f"<{name} healthcheck>", "exec")
        match = _HEALTH_URL.search(code)
        assert match, f"{name}: healthcheck asks no local URL"
        assert match["path"] == "/readyz", name
        settings = check_settings(compose_env(svc), name)
        assert int(match["port"]) == service_port(script, settings), f"{name}: wrong health port"


def test_compose_start_order_and_restarts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    migrate = services["migrate"]
    assert command_of(migrate["command"]) == [MIGRATE]
    assert str(migrate.get("restart", "no")) == "no", "a one-shot must not restart after success"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"

    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(command_of(postgres["healthcheck"]["test"]))
    env = {key: interpolate(str(value)) for key, value in postgres["environment"].items()}
    database = urlsplit(check_settings(compose_env(services["api"]), "api").database_url)
    assert (database.username, database.password, database.path.lstrip("/")) == (
        env["POSTGRES_USER"],
        env["POSTGRES_PASSWORD"],
        env["POSTGRES_DB"],
    ), "OPENSTATUS_DATABASE_URL must match the postgres service's credentials"

    nats = services["nats"]
    assert nats["image"].startswith("nats:2.10")
    args = command_of(nats["command"])
    assert "-js" in args
    store = args[args.index("-sd") + 1]
    assert any(str(volume).split(":")[1] == store for volume in nats["volumes"]), (
        "JetStream store is no volume"
    )

    declared = set(compose.get("volumes") or {})
    for name, svc in services.items():
        for volume in svc.get("volumes", []):
            source = str(volume).split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} is not declared"
        if name == "migrate":
            continue
        assert svc.get("restart") == "unless-stopped", name
        if name in our_compose_services(compose):
            condition = svc["depends_on"]["migrate"]["condition"]
            assert condition == "service_completed_successfully", name


def test_compose_publishes_only_api_and_status_page_on_loopback(compose: dict[str, Any]) -> None:
    published = {}
    for name, svc in compose["services"].items():
        for port in svc.get("ports", []):
            if isinstance(port, dict):
                host_ip, container = port.get("host_ip", ""), int(port["target"])
            else:
                parts = str(port).split(":")
                assert len(parts) == 3, f"{name}: publish {port} with an explicit host address"
                host_ip, container = parts[0], int(parts[2])
            assert host_ip == "127.0.0.1", f"{name}: {port} must bind to 127.0.0.1"
            published[name] = container
    assert set(published) == {"api", "status-page"}
    for name, container in published.items():
        svc = compose["services"][name]
        settings = check_settings(compose_env(svc), name)
        assert container == service_port(command_of(svc["command"])[0], settings)


# --- kubernetes (kustomize) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    path: Path
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind"))

    @property
    def name(self) -> str:
        return str(self.doc.get("metadata", {}).get("name"))


@dataclass(frozen=True)
class Bundle:
    directory: Path
    kustomization: dict[str, Any]
    manifests: tuple[Manifest, ...]

    def of_kind(self, *kinds: str) -> Iterator[Manifest]:
        return (manifest for manifest in self.manifests if manifest.kind in kinds)

    def get(self, kind: str, name: str) -> Manifest | None:
        return next((m for m in self.manifests if m.kind == kind and m.name == name), None)

    @property
    def image_names(self) -> set[str]:
        return {image["name"] for image in self.kustomization.get("images", [])}

    def is_ours(self, container: dict[str, Any]) -> bool:
        return image_repository(container["image"]) in self.image_names


def image_repository(image: str) -> str:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[0] if ":" in last else name


def load_bundle(directory: Path) -> Bundle:
    kustomization_file = directory / "kustomization.yaml"
    assert kustomization_file.is_file(), f"{directory} has no kustomization.yaml"
    kustomization = yaml.safe_load(kustomization_file.read_text())
    assert kustomization.get("kind") == "Kustomization"
    assert str(kustomization.get("apiVersion", "")).startswith("kustomize.config.k8s.io/")
    manifests: list[Manifest] = []
    resources = kustomization.get("resources", [])
    assert resources, f"{kustomization_file} lists no resources"
    assert len(resources) == len(set(resources)), "a resource is listed twice"
    for entry in resources:
        path = (directory / entry).resolve()
        assert path.exists(), f"{kustomization_file}: resource {entry} does not exist"
        if path.is_dir():
            manifests.extend(load_bundle(path).manifests)
            continue
        docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
        assert docs, f"{path} holds no object"
        manifests.extend(Manifest(path, doc) for doc in docs)
    return Bundle(directory, kustomization, tuple(manifests))


@pytest.fixture(scope="module")
def main_bundle() -> Bundle:
    return load_bundle(K8S)


@pytest.fixture(scope="module")
def private_bundle() -> Bundle:
    return load_bundle(PRIVATE_PROBE)


@pytest.fixture(scope="module", params=["main", "private-probe"])
def bundle(request: pytest.FixtureRequest, main_bundle: Bundle, private_bundle: Bundle) -> Bundle:
    return main_bundle if request.param == "main" else private_bundle


def pod_spec(manifest: Manifest) -> dict[str, Any]:
    spec = manifest.doc["spec"]
    if manifest.kind == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


def containers(bundle: Bundle) -> Iterator[tuple[Manifest, dict[str, Any]]]:
    for manifest in bundle.of_kind(*WORKLOAD_KINDS):
        spec = pod_spec(manifest)
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            yield manifest, container


def _data_of(manifest: Manifest) -> dict[str, str]:
    doc = manifest.doc
    data = {key: str(value) for key, value in (doc.get("data") or {}).items()}
    if manifest.kind == "Secret":
        data = {key: base64.b64decode(value).decode() for key, value in data.items()}
        data.update({key: str(value) for key, value in (doc.get("stringData") or {}).items()})
    return data


def container_env(bundle: Bundle, container: dict[str, Any], where: str) -> dict[str, str]:
    """The container's environment as the kubelet builds it; referenced objects must exist."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        kind, ref = (
            ("ConfigMap", source["configMapRef"])
            if "configMapRef" in source
            else ("Secret", source["secretRef"])
        )
        target = bundle.get(kind, ref["name"])
        if target is None:
            assert ref.get("optional"), f"{where}: {kind} {ref['name']} is not in the kustomization"
            continue
        env.update({source.get("prefix", "") + key: value for key, value in _data_of(target).items()})
    for item in container.get("env", []):
        name = item["name"]
        if "value" in item:
            env[name] = str(item["value"])
            continue
        value_from = item.get("valueFrom", {})
        for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
            if key in value_from:
                ref = value_from[key]
                target = bundle.get(kind, ref["name"])
                data = _data_of(target) if target else {}
                if ref["key"] in data:
                    env[name] = data[ref["key"]]
                else:
                    assert ref.get("optional"), f"{where}: {kind} {ref['name']} has no key {ref['key']}"
                break
        else:
            assert "fieldRef" in value_from or "resourceFieldRef" in value_from, f"{where}: {name}"
            assert not name.startswith(ENV_PREFIX), f"{where}: {name} has no resolvable value"
    return env


def our_containers(bundle: Bundle) -> Iterator[tuple[Manifest, dict[str, Any], str, Settings]]:
    """(workload, container, console script, settings) for every container of our image."""
    for manifest, container in containers(bundle):
        if not bundle.is_ours(container):
            continue
        where = f"{manifest.path.name}: {manifest.kind}/{manifest.name}"
        command = command_of(container.get("command"))
        assert command, f"{where}: choose the service with `command` (the image has no entrypoint)"
        assert command[0] in PACKAGE_OF_SCRIPT, f"{where}: {command[0]} is no console script"
        settings = check_settings(container_env(bundle, container, where), where)
        yield manifest, container, command[0], settings


def test_kustomization_objects_are_well_formed(bundle: Bundle) -> None:
    seen = set()
    for manifest in bundle.manifests:
        doc = manifest.doc
        assert doc.get("apiVersion"), f"{manifest.path.name}: object without apiVersion"
        assert doc.get("kind"), f"{manifest.path.name}: object without kind"
        assert isinstance(doc.get("metadata"), dict) and doc["metadata"].get("name"), manifest.path.name
        key = (manifest.kind, manifest.name)
        assert key not in seen, f"{key} defined twice"
        seen.add(key)
    namespace = bundle.kustomization.get("namespace")
    assert namespace and bundle.get("Namespace", namespace), "the kustomization's namespace must be created"
    assert bundle.image_names, "the kustomization must map the image name to a registry"


def test_kustomization_files_are_all_listed() -> None:
    """A manifest next to a kustomization.yaml that it does not list is never applied."""
    for directory in (K8S, PRIVATE_PROBE):
        listed = set(yaml.safe_load((directory / "kustomization.yaml").read_text())["resources"])
        for path in directory.glob("*.y*ml"):
            if path.name != "kustomization.yaml":
                assert path.name in listed, f"{path} is not in its kustomization"


def test_main_and_private_probe_are_separate(main_bundle: Bundle, private_bundle: Bundle) -> None:
    assert not {m.path for m in main_bundle.manifests} & {m.path for m in private_bundle.manifests}
    assert main_bundle.kustomization["namespace"] != private_bundle.kustomization["namespace"]


def test_deployments_probe_health_endpoints_on_the_service_port(bundle: Bundle) -> None:
    deployments = {m.name for m in bundle.of_kind("Deployment")}
    checked = set()
    for manifest, container, script, settings in our_containers(bundle):
        if manifest.kind != "Deployment":
            continue
        where = f"Deployment/{manifest.name}"
        assert script in SERVICE_PORT_FIELD, f"{where} runs {script}, which is no long-running service"
        port = service_port(script, settings)
        named = {item["name"]: item["containerPort"] for item in container.get("ports", []) if "name" in item}
        assert port in {item["containerPort"] for item in container.get("ports", [])}, where
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            http = container.get(probe, {}).get("httpGet")
            assert http, f"{where}: {probe} must be an httpGet"
            assert http["path"] == path, f"{where}: {probe} must ask {path}"
            assert named.get(http["port"], http["port"]) == port, f"{where}: {probe} on the wrong port"
        startup = container.get("startupProbe", {}).get("httpGet")
        if startup:
            assert startup["path"] in ("/healthz", "/readyz"), f"{where}: startupProbe path"
            assert named.get(startup["port"], startup["port"]) == port, f"{where}: startupProbe port"
        assert settings.host == "0.0.0.0", f"{where}: the kubelet cannot reach a loopback listener"
        grace = pod_spec(manifest).get("terminationGracePeriodSeconds", 30)
        assert settings.shutdown_timeout < grace <= 60, f"{where}: shutdown must finish before SIGKILL"
        checked.add(manifest.name)
    assert checked == deployments, "every Deployment runs an openstatus service"


def test_workloads_run_non_root_and_locked_down(bundle: Bundle) -> None:
    for manifest in bundle.of_kind(*WORKLOAD_KINDS):
        spec = pod_spec(manifest)
        pod_context = spec.get("securityContext", {})
        for container in spec["containers"]:
            where = f"{manifest.kind}/{manifest.name}/{container['name']}"
            context = container.get("securityContext", {})
            non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
            assert non_root is True, f"{where}: runAsNonRoot"
            assert context.get("runAsUser", pod_context.get("runAsUser", 1)) != 0, where
            assert context.get("allowPrivilegeEscalation") is False, where
            assert "ALL" in context.get("capabilities", {}).get("drop", []), where
            requests = container.get("resources", {}).get("requests", {})
            assert {"cpu", "memory"} <= set(requests), f"{where}: resource requests"
            assert "memory" in container.get("resources", {}).get("limits", {}), f"{where}: memory limit"
            if bundle.is_ours(container):
                assert context.get("readOnlyRootFilesystem") is True, where
        if manifest.kind == "Deployment":
            assert spec.get("automountServiceAccountToken") is False, manifest.name


def test_k8s_uses_every_deployed_script(main_bundle: Bundle) -> None:
    used = {script for _, _, script, _ in our_containers(main_bundle)}
    assert used == DEPLOYED_SCRIPTS
    jobs = [(m, script) for m, _, script, _ in our_containers(main_bundle) if script == MIGRATE]
    assert [m.kind for m, _ in jobs] == ["Job"], "migrations run once, in a Job"


def test_k8s_replicas(main_bundle: Bundle) -> None:
    for manifest in main_bundle.of_kind("Deployment"):
        replicas = manifest.doc["spec"].get("replicas")
        autoscaled = any(
            hpa.doc["spec"]["scaleTargetRef"]["name"] == manifest.name
            for hpa in main_bundle.of_kind("HorizontalPodAutoscaler")
        )
        if autoscaled:
            assert replicas is None, f"{manifest.name}: leave replicas to the autoscaler"
        else:
            assert replicas is not None and replicas >= 2, f"{manifest.name}: run at least two replicas"


def test_k8s_hosts_are_in_cluster_services(main_bundle: Bundle) -> None:
    services = {m.name for m in main_bundle.of_kind("Service")}
    for manifest, _, script, settings in our_containers(main_bundle):
        where = f"{manifest.kind}/{manifest.name}"
        assert settings.database_url.startswith("postgresql+asyncpg://"), where
        assert urlsplit(settings.database_url).hostname in services, where
        for server in settings.nats_url.split(","):
            assert urlsplit(server.strip()).hostname in services, where
        assert not settings.allow_metadata_targets, where
        if script == PROBE:
            assert not settings.allow_private_targets, (
                f"{where}: hosted probes must not reach the cluster network"
            )


def test_k8s_probe_deployment_per_region(main_bundle: Bundle) -> None:
    regions: dict[str, str] = {}
    for manifest, _, script, settings in our_containers(main_bundle):
        if script != PROBE:
            continue
        region = settings.region.value
        assert settings.is_set("region"), f"{manifest.name} must set OPENSTATUS_REGION"
        assert region not in regions.values(), f"two probe Deployments serve {region}"
        regions[manifest.name] = region
        assert settings.region in settings.regions, f"{manifest.name}: {region} is not in OPENSTATUS_REGIONS"
    assert regions == {f"probe-{region}": region for region in HOSTED_PROBE_REGIONS}
    for manifest, _, script, settings in our_containers(main_bundle):
        assert script == PROBE or not settings.is_set("region"), (
            f"only probes have a region ({manifest.name})"
        )
        assert {region.value for region in settings.regions} == HOSTED_PROBE_REGIONS, manifest.name


def _pod_labels(manifest: Manifest) -> dict[str, str]:
    return manifest.doc["spec"]["template"]["metadata"].get("labels", {})


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def test_services_select_pods_and_ports(bundle: Bundle) -> None:
    workloads = list(bundle.of_kind("Deployment", "StatefulSet", "DaemonSet"))
    for service in bundle.of_kind("Service"):
        selector = service.doc["spec"]["selector"]
        targets = [m for m in workloads if _selects(selector, _pod_labels(m))]
        assert targets, f"Service/{service.name} selects no pods"
        for port in service.doc["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for workload in targets:
                container_ports = [p for c in pod_spec(workload)["containers"] for p in c.get("ports", [])]
                assert any(target in (p["containerPort"], p.get("name")) for p in container_ports), (
                    f"Service/{service.name}: no container port {target} in {workload.name}"
                )


def test_workload_selectors_match_their_pods(bundle: Bundle) -> None:
    for manifest in bundle.of_kind("Deployment", "StatefulSet"):
        assert _selects(manifest.doc["spec"]["selector"]["matchLabels"], _pod_labels(manifest)), manifest.name
        if manifest.kind == "StatefulSet":
            assert bundle.get("Service", manifest.doc["spec"]["serviceName"]), manifest.name


def test_statefulsets_keep_data_on_volumes(main_bundle: Bundle) -> None:
    names = {m.name for m in main_bundle.of_kind("StatefulSet")}
    assert names == {"nats", "postgres"}
    for manifest in main_bundle.of_kind("StatefulSet"):
        claims = {claim["metadata"]["name"] for claim in manifest.doc["spec"].get("volumeClaimTemplates", [])}
        mounts = {m["name"] for c in pod_spec(manifest)["containers"] for m in c.get("volumeMounts", [])}
        assert claims and claims <= mounts, f"{manifest.name}: a PersistentVolumeClaim must back its data"
    nats = main_bundle.get("StatefulSet", "nats")
    assert nats is not None
    container = pod_spec(nats)["containers"][0]
    args = command_of(container.get("args"))
    assert "-js" in args, "NATS must run with JetStream"
    store = args[args.index("-sd") + 1]
    assert any(m["mountPath"] == store for m in container["volumeMounts"]), (
        "JetStream store is not on the PVC"
    )
    assert "managed PostgreSQL" in (K8S / "postgres.yaml").read_text()


def test_ingress_routes_to_services(main_bundle: Bundle) -> None:
    ingresses = list(main_bundle.of_kind("Ingress"))
    assert ingresses
    routed = set()
    for ingress in ingresses:
        spec = ingress.doc["spec"]
        backends = [spec["defaultBackend"]] if "defaultBackend" in spec else []
        backends += [path["backend"] for rule in spec["rules"] for path in rule["http"]["paths"]]
        for backend in backends:
            service = main_bundle.get("Service", backend["service"]["name"])
            assert service, f"Ingress/{ingress.name} routes to a missing Service"
            port = backend["service"]["port"]
            ports = service.doc["spec"]["ports"]
            assert any(port.get("name") == p.get("name") or port.get("number") == p["port"] for p in ports), (
                f"Ingress/{ingress.name}: Service/{service.name} has no port {port}"
            )
            routed.add(service.name)
    assert {"api", "status-page"} <= routed


def test_disruption_budgets_and_autoscalers(main_bundle: Bundle) -> None:
    deployments = {m.name: m for m in main_bundle.of_kind("Deployment")}
    protected = set()
    for pdb in main_bundle.of_kind("PodDisruptionBudget"):
        matched = [
            m
            for m in deployments.values()
            if _selects(pdb.doc["spec"]["selector"]["matchLabels"], _pod_labels(m))
        ]
        assert len(matched) == 1, f"PodDisruptionBudget/{pdb.name} must select one Deployment"
        replicas = matched[0].doc["spec"].get("replicas", 1)
        assert pdb.doc["spec"].get("minAvailable", 0) < replicas, f"{pdb.name} would block every drain"
        protected.add(matched[0].name)
    assert {"api", "status-page"} <= protected
    for hpa in main_bundle.of_kind("HorizontalPodAutoscaler"):
        target = deployments.get(hpa.doc["spec"]["scaleTargetRef"]["name"])
        assert target is not None, f"HorizontalPodAutoscaler/{hpa.name} scales a missing Deployment"
        assert 1 <= hpa.doc["spec"].get("minReplicas", 1) <= hpa.doc["spec"]["maxReplicas"]
        for container in pod_spec(target)["containers"]:
            assert "cpu" in container["resources"]["requests"], "utilization needs CPU requests"


def test_secrets_are_marked_examples(bundle: Bundle) -> None:
    for secret in bundle.of_kind("Secret"):
        assert "example" in secret.path.name, f"Secret/{secret.name} must live in a *.example.yaml file"
        assert "EXAMPLE" in secret.path.read_text(), f"{secret.path.name} must say it holds placeholders"
        for key, value in _data_of(secret).items():
            assert not value or PLACEHOLDER in value, f"Secret/{secret.name}: {key} is not a placeholder"


def test_private_probe_is_outbound_only(private_bundle: Bundle, main_bundle: Bundle) -> None:
    kinds = {m.kind for m in private_bundle.manifests}
    assert not kinds & {"Service", "Ingress"}, "a private probe accepts no inbound connections"
    probes = list(our_containers(private_bundle))
    assert len(probes) == 1
    manifest, _, script, settings = probes[0]
    assert (manifest.kind, script) == ("Deployment", PROBE)
    assert settings.is_set("region") and settings.is_set("nats_url")
    hosted = {s.region for _, _, script, s in our_containers(main_bundle) if script == PROBE}
    assert settings.region not in hosted, "a private location must not share a hosted region's work queue"
    assert settings.allow_private_targets, "checking internal targets is the point of a private probe"
    # It reaches nothing but NATS; no hosts of the main deployment's cluster network.
    main_services = {m.name for m in main_bundle.of_kind("Service")}
    assert urlsplit(settings.nats_url).hostname not in main_services
    assert not settings.database_url.startswith("postgresql")


def _kustomize_command() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


@pytest.mark.skipif(_kustomize_command() is None, reason="neither kustomize nor kubectl is installed")
@pytest.mark.parametrize("directory", [K8S, PRIVATE_PROBE], ids=["main", "private-probe"])
def test_kustomize_builds(directory: Path) -> None:
    command = _kustomize_command()
    assert command is not None
    result = subprocess.run(
        [*command, str(directory)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    rendered = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    bundle = load_bundle(directory)
    assert {(d["kind"], d["metadata"]["name"]) for d in rendered} == {
        (m.kind, m.name) for m in bundle.manifests
    }
    namespace = bundle.kustomization["namespace"]
    for doc in rendered:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == namespace, doc["metadata"]["name"]
        if doc["kind"] in WORKLOAD_KINDS:
            for container in doc["spec"]["template"]["spec"]["containers"]:
                assert image_repository(container["image"]) not in bundle.image_names, (
                    "image was not rewritten"
                )


# --- Dockerfile -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    base: str
    name: str | None
    instructions: tuple[tuple[str, str], ...]

    def all(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]


def _instructions() -> list[tuple[str, str]]:
    instructions = []
    buffer = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        keyword, _, rest = (buffer + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        buffer = ""
    assert not buffer, "the Dockerfile ends inside a continued line"
    return instructions


def _stages() -> list[Stage]:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    current: list[tuple[str, str]] | None = None
    header: tuple[str, str | None] = ("", None)
    for keyword, rest in _instructions():
        if keyword == "FROM":
            if current is not None:
                stages.append(Stage(header[0], header[1], tuple(current)))
            words = [w for w in rest.split() if not w.startswith("--")]
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), words[0])
            name = words[2] if len(words) == 3 and words[1].lower() == "as" else None
            header, current = (base, name), []
        elif current is None:
            assert keyword == "ARG", f"only ARG may precede FROM, not {keyword}"
            name, _, default = rest.partition("=")
            args[name] = default
        else:
            current.append((keyword, rest))
    assert current is not None, "the Dockerfile has no FROM"
    stages.append(Stage(header[0], header[1], tuple(current)))
    return stages


def _run_tokens(stage: Stage, needle: str) -> list[list[str]]:
    """Tokens of each shell command (split at &&) in the stage's RUN lines that contain ``needle``."""
    commands = []
    for run in stage.all("RUN"):
        for part in re.split(r"&&|;", run):
            tokens = shlex.split(part)
            if needle in " ".join(tokens):
                commands.append(tokens)
    return commands


def _normalize(path: str) -> str:
    return path.strip().removeprefix("./").rstrip("/") or "."


def test_dockerfile_is_multi_stage_on_python_311_slim() -> None:
    stages = _stages()
    assert len(stages) >= 2
    names = {stage.name for stage in stages}
    for stage in stages:
        assert stage.base == "python:3.11-slim" or stage.base in names, f"unexpected base {stage.base}"
    assert stages[-1].base == "python:3.11-slim"


def test_dockerfile_final_stage_runs_without_root_or_tools() -> None:
    final = _stages()[-1]
    assert not final.all("ENTRYPOINT"), "compose and Kubernetes choose the command"
    assert json.loads(final.all("CMD")[-1]) == ["openstatus-api"]
    user = final.all("USER")[-1].split(":")[0]
    assert user not in ("root", "0"), "the final stage must run as a non-root user"
    assert user.isdigit(), "a numeric USER lets Kubernetes verify runAsNonRoot"
    for run in final.all("RUN"):
        assert not re.search(r"apt-get install|apk add|build-essential|gcc|pip (install|wheel)", run), run
    for copy in final.all("COPY"):
        assert "--from=" in copy, f"the final stage copies only build results, not sources: {copy}"
    env = " ".join(final.all("ENV"))
    assert "OPENSTATUS_HOST=0.0.0.0" in env, "containers must listen on all interfaces"
    for match in re.finditer(r"\b(OPENSTATUS_\w+)=", env):
        assert match.group(1).removeprefix(ENV_PREFIX).lower() in Settings.model_fields, match.group(1)


def test_dockerfile_copies_every_package_and_the_constraints() -> None:
    build = _stages()[0]
    sources = set()
    for copy in build.all("COPY"):
        words = [w for w in shlex.split(copy) if not w.startswith("--")]
        sources.update(_normalize(w) for w in words[:-1])
    needed = [CONSTRAINTS, *(package.directory for package in PACKAGES)]
    for path in needed:
        assert any(s == "." or path == s or path.startswith(s + "/") for s in sources), (
            f"{path} is not copied"
        )


def test_dockerfile_builds_every_package_with_the_constraints() -> None:
    build = _stages()[0]
    wheels = _run_tokens(build, "pip wheel")
    assert wheels, "the build stage must build wheels"
    tokens = [token for command in wheels for token in command]
    joined = " ".join(tokens)
    assert re.search(rf"(-c|--constraint)[ =]{re.escape(CONSTRAINTS)}\b", joined), (
        "wheels must honour constraints"
    )
    built = {_normalize(token) for token in tokens}
    for package in PACKAGES:
        assert package.directory in built, f"no wheel for {package.directory}"


def test_dockerfile_installs_every_script_the_deployments_run(
    compose: dict[str, Any], main_bundle: Bundle, private_bundle: Bundle
) -> None:
    used = {command_of(svc["command"])[0] for svc in our_compose_services(compose).values()}
    for bundle in (main_bundle, private_bundle):
        used |= {script for _, _, script, _ in our_containers(bundle)}
    used.add(json.loads(_stages()[-1].all("CMD")[-1])[0])
    installs = [t for stage in _stages() for command in _run_tokens(stage, "pip install") for t in command]
    installed = {_normalize(token) for token in installs}
    for script in used:
        package = PACKAGE_OF_SCRIPT[script]
        assert package.name in installed or package.directory in installed, (
            f"{script} ({package.name}) not installed"
        )


# --- .dockerignore ----------------------------------------------------------------------------------------


def _ignore_patterns() -> list[str]:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def excluded(path: str, patterns: list[str]) -> bool:
    """Docker's rule, approximately (``*`` may also cross ``/``: stricter): the last matching pattern wins."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = _normalize(pattern.removeprefix("!"))
        if any(fnmatch(prefix, glob) or fnmatch(prefix, glob.replace("**/", "")) for prefix in prefixes):
            result = not negated
    return result


def test_dockerignore_keeps_sources_and_drops_local_state() -> None:
    patterns = _ignore_patterns()
    for path in (".venv/bin/python", ".git/HEAD", "var/openstatus.db", ".pytest_cache/v/x", ".ruff_cache/x"):
        assert excluded(path, patterns), f"{path} must not be sent to the build"
    assert excluded("libs/common/openstatus_common/__pycache__/settings.cpython-311.pyc", patterns)
    needed = [CONSTRAINTS]
    for package in PACKAGES:
        directory = ROOT / package.directory
        needed.append(f"{package.directory}/pyproject.toml")
        for module in package.modules:
            for file in (directory / module).rglob("*"):
                if file.is_file() and "__pycache__" not in file.parts:
                    needed.append(file.relative_to(ROOT).as_posix())
    assert len(needed) > len(PACKAGES) + 1, "no package sources found"
    for path in needed:
        assert not excluded(path, patterns), f".dockerignore drops {path}, which the image build needs"
