"""Validation of custom resources against their operators' CRD schemas, strictly: a field the
CRD does not define is an error here (the API server would silently prune it)."""

from __future__ import annotations

from typing import Any

import jsonschema
import yaml

from tests.deploy.tools import schema_file

CRD_FILES = (
    "crd-keda-scaledobjects.yaml",
    "crd-keda-triggerauthentications.yaml",
    "crd-servicemonitors.yaml",
    "crd-prometheusrules.yaml",
    "crd-rabbitmqclusters.yaml",
    "crd-rabbitmq-users.yaml",
    "crd-rabbitmq-permissions.yaml",
    "crd-rabbitmq-policies.yaml",
    "crd-mongodbcommunity.yaml",
)


def strict(schema: Any) -> Any:
    """Close every object schema that lists its properties and does not keep unknown fields."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> JSON schema of that served version."""
    schemas = {}
    for name in CRD_FILES:
        crd = yaml.safe_load(schema_file(name).read_text(encoding="utf-8"))
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served", True):
                schema = strict(version["schema"]["openAPIV3Schema"])
                # metadata is the API server's, checked by name only here
                schema["properties"]["metadata"] = {"type": "object"}
                schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


def crd_errors(document: dict, schemas: dict[tuple[str, str], dict]) -> list[str]:
    schema = schemas[(document["apiVersion"], document["kind"])]
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(document)
    ]
