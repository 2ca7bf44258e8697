"""A small Kustomize renderer for the tests (kustomize is not installed here): resources (files
and directories), strategic-merge patches matched by kind/name/namespace, and images. It refuses
any other kustomization field, so the manifests cannot silently use a feature it would render
wrongly."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
BASE = DEPLOY / "kubernetes" / "base"
PRODUCTION = DEPLOY / "kubernetes" / "overlays" / "production"
SUPPORTED = {"apiVersion", "kind", "resources", "images", "patches"}


def load_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def render(directory: Path) -> list[dict[str, Any]]:
    """The objects `kubectl kustomize directory` would print (for the features above)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unsupported = set(kustomization) - SUPPORTED
    if unsupported:
        raise AssertionError(f"the test renderer does not support {sorted(unsupported)}")
    objects: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        objects += render(path) if path.is_dir() else load_documents(path)
    for patch in kustomization.get("patches", []):
        if set(patch) != {"path"}:
            raise AssertionError(f"only `patches: - path:` is supported, not {patch}")
        for doc in load_documents(directory / patch["path"]):
            merge(find(objects, doc), doc)
    for image in kustomization.get("images", []):
        set_image(objects, image)
    return objects


def key(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return obj["kind"], meta["name"], meta.get("namespace", "")


def find(objects: list[dict[str, Any]], patch: dict[str, Any]) -> dict[str, Any]:
    found = [o for o in objects if key(o) == key(patch)]
    if len(found) != 1:
        raise AssertionError(f"patch target {key(patch)} matches {len(found)} objects")
    return found[0]


def merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Strategic merge as Kustomize does it for the fields used here: maps merge, lists of
    named items (containers, env, ports, volumes) merge by name, other lists are replaced."""
    for field, value in patch.items():
        if str(field).startswith("$"):
            raise AssertionError(f"patch directive {field} is not supported")
        current = target.get(field)
        if isinstance(value, dict) and isinstance(current, dict):
            merge(current, value)
        elif isinstance(current, list) and _named(value) and _named(current):
            by_name = {item["name"]: item for item in current}
            for item in value:
                if item["name"] in by_name:
                    merge(by_name[item["name"]], item)
                else:
                    current.append(copy.deepcopy(item))
        else:
            target[field] = copy.deepcopy(value)


def _named(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and "name" in i for i in value)


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The containers of a Deployment or Job (empty for other kinds)."""
    spec = pod_spec(obj)
    return [*spec.get("initContainers", []), *spec.get("containers", [])] if spec else []


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    if obj["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        spec: dict[str, Any] = obj["spec"]["template"]["spec"]
        return spec
    return None


def set_image(objects: list[dict[str, Any]], image: dict[str, str]) -> None:
    for obj in objects:
        for container in containers(obj):
            name, _, tag = container["image"].partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
