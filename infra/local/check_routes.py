#!/usr/bin/env python3
"""The routes of the API live in three places; this check fails when they drift.

- infra/openapi.yaml        the contract: METHOD /path
- Cargo.toml                cargo lambda watch's router: path -> function (per method)
- infra/template.yaml       API Gateway: HttpApi events of each function (Binary = function)

Every contract route must be served by the same function in the router and in the
template, and neither may serve a route the contract does not have (the router's
method/catch-all fallbacks to `list`, and API Gateway's `$default` route, answer 404/405).
Two routes are beyond the contract's paths: the template's `OPTIONS /{proxy+}` to `list`
without authorization, where browsers' CORS preflights go (every function answers
OPTIONS with 204), and SCIM 2.0 (`ANY /scim/v2/{proxy+}` to `scim`, without the JWT
authorizer: a provisioning token is checked inside; its paths are SCIM's, documented in
the README, not in openapi.yaml).
"""

import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


class CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation's short tags (!Ref, !Sub...) as plain values."""


def _any_tag(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


CfnLoader.add_multi_constructor("!", _any_tag)


def report(what, problems, ok):
    """Prints the problems (or `ok`) under `what`; the exit status."""
    for problem in problems:
        print(f"{what}: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"{what}: {ok}")
    return 0


def contract_routes():
    spec = yaml.safe_load((ROOT / "infra/openapi.yaml").read_text())
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }


def router():
    """(METHOD, path) -> function for the router's explicit routes, plus its fallbacks."""
    table = tomllib.loads((ROOT / "Cargo.toml").read_text())
    routes = table["workspace"]["metadata"]["lambda"]["watch"]["router"]
    explicit, single = {}, {}
    for path, target in routes.items():
        if isinstance(target, str):
            single[path] = target
        else:
            for route in target:
                explicit[(route["method"].upper(), path)] = route["function"]
    return explicit, single


def template_routes():
    template = yaml.load((ROOT / "infra/template.yaml").read_text(), Loader=CfnLoader)
    routes = {}
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        function = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties", {})
            path, method = props.get("Path"), props.get("Method")
            if path and method:
                routes[(method.upper(), path)] = function
            else:
                routes[("ANY", "$default")] = function
    return routes


def main():
    problems = []
    contract = contract_routes()
    explicit, single = router()
    deployed = template_routes()

    def routed(method, path):
        return explicit.get((method, path)) or single.get(path)

    for method, path in sorted(contract):
        local, cloud = routed(method, path), deployed.get((method, path))
        if local is None:
            problems.append(f"Cargo.toml router does not serve {method} {path}")
        if cloud is None:
            problems.append(f"infra/template.yaml does not serve {method} {path}")
        if local and cloud and local != cloud:
            problems.append(f"{method} {path}: router -> {local}, template -> {cloud}")
    preflight = ("OPTIONS", "/{proxy+}")
    scim = ("ANY", "/scim/v2/{proxy+}")
    if deployed.get(scim) != "scim" or single.get("/scim/v2/{*path}") != "scim":
        problems.append("SCIM needs ANY /scim/v2/{proxy+} -> scim in the template and /scim/v2/{*path} -> scim in the router")
    if deployed.get(preflight) != "list":
        problems.append("infra/template.yaml needs OPTIONS /{proxy+} -> list without authorization (CORS preflights)")
    for (method, path), function in sorted(deployed.items()):
        if (method, path) not in contract and path != "$default" and (method, path) not in (preflight, scim):
            problems.append(f"infra/template.yaml serves {method} {path}, which the contract does not have")
    for (method, path), function in sorted(explicit.items()):
        if (method, path) not in contract and function != "list":
            problems.append(f"Cargo.toml routes {method} {path} to {function}, which the contract does not have")
    if deployed.get(("ANY", "$default")) != "list":
        problems.append("infra/template.yaml needs a $default route to list (problem+json 404/405)")
    if single.get("/{*path}") != "list":
        problems.append("Cargo.toml router needs the catch-all /{*path} -> list")
    return report("routes", problems, f"{len(contract)} contract routes agree in openapi.yaml, Cargo.toml and template.yaml")


if __name__ == "__main__":
    sys.exit(main())
