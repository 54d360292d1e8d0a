#!/usr/bin/env python3
"""Checks infra/openapi.yaml for what trips a generated TypeScript client
(openapi-typescript) although the spec is valid OpenAPI:

- `default:` on a request property or parameter makes the field required in the
  generated request type, so a client would have to send what the server defaults;
  defaults belong in the description;
- `required:` in an `allOf` branch that does not restate those properties leaves them
  optional in the generated type.

Exits non-zero, naming each place, when either appears.
"""

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_routes import report  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def deref(spec, ref):
    node = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def walk_schema(spec, schema, where, seen, problems):
    """Every property of a request schema, through $refs, oneOf/anyOf/allOf and items."""
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref in seen:
            return
        seen.add(ref)
        walk_schema(spec, deref(spec, ref), f"{where} -> {ref}", seen, problems)
        return
    if "default" in schema:
        problems.append(f"{where}: `default` in a request schema")
    for name, prop in (schema.get("properties") or {}).items():
        walk_schema(spec, prop, f"{where}.{name}", seen, problems)
    for key in ("oneOf", "anyOf", "allOf"):
        for i, branch in enumerate(schema.get(key) or []):
            walk_schema(spec, branch, f"{where}.{key}[{i}]", seen, problems)
    if "items" in schema:
        walk_schema(spec, schema["items"], f"{where}[]", seen, problems)


def check_allof(node, where, problems):
    if isinstance(node, dict):
        for i, branch in enumerate(node.get("allOf") or []):
            if isinstance(branch, dict) and "required" in branch:
                missing = [r for r in branch["required"] if r not in (branch.get("properties") or {})]
                if missing:
                    problems.append(f"{where}.allOf[{i}]: required {missing} not restated in the branch's properties")
        for key, value in node.items():
            check_allof(value, f"{where}.{key}", problems)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            check_allof(value, f"{where}[{i}]", problems)


def main(path):
    spec = yaml.safe_load(Path(path).read_text())
    problems = []
    for route, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if not isinstance(op, dict) or method == "parameters":
                continue
            for param in shared + op.get("parameters", []):
                param = deref(spec, param["$ref"]) if "$ref" in param else param
                walk_schema(spec, param.get("schema", {}), f"{method.upper()} {route} parameter {param['name']}", set(), problems)
            body = op.get("requestBody", {})
            for media, content in (body.get("content") or {}).items():
                walk_schema(spec, content.get("schema", {}), f"{method.upper()} {route} body ({media})", set(), problems)
    check_allof(spec, "#", problems)
    return report("openapi", problems, "no request defaults, every allOf `required` restated")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ROOT / "infra/openapi.yaml"))
