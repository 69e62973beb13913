"""Each service's committed OpenAPI document (services/<svc>/openapi.json)
against the HTTP API routes Terraform deployed for that service's function:
the same operations, and the same public ones, so the document and the
Terraform route list cannot drift apart."""

import json
from pathlib import Path

import pytest

from settings import PREFIX

pytestmark = pytest.mark.live

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("notes", "users", "tenants")
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def document(service):
    return json.loads((REPO / "services" / service / "openapi.json").read_text())


def operations(doc):
    """`"METHOD /path"` (an API Gateway route key) -> the operation."""
    return {
        f"{method.upper()} {path}": operation
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def deployed_routes(aws, routes, integrations, service):
    """The deployed routes whose integration invokes the service's function."""
    function_arn = aws("lambda").get_function_configuration(FunctionName=f"{PREFIX}-{service}")["FunctionArn"]
    found = {}
    for route in routes:
        target = route.get("Target", "")
        if not target.startswith("integrations/"):
            continue
        integration = integrations[target.split("/", 1)[1]]
        if f"/functions/{function_arn}/invocations" in integration["IntegrationUri"]:
            found[route["RouteKey"]] = route
    return found


# The only operation without the JWT authorizer: public registration (no
# tenant, hence no token, exists yet). Pinned here so that a document cannot
# make another route public unnoticed.
PUBLIC_OPERATIONS = {"POST /tenants"}


def test_every_deployed_route_belongs_to_a_documented_service(routes):
    documented = set().union(*(operations(document(service)) for service in SERVICES))
    keys = [route["RouteKey"] for route in routes]
    twice = [(r["RouteKey"], r["RouteId"], r.get("Target")) for r in routes if keys.count(r["RouteKey"]) > 1]
    assert twice == [], f"route keys deployed more than once (key, id, target): {twice}"
    deployed = set(keys)
    assert deployed == documented, (
        f"deployed but not documented: {sorted(deployed - documented)}; "
        f"documented but not deployed: {sorted(documented - deployed)}"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_deployed_routes_are_the_documented_operations(aws, routes, integrations, service):
    documented = operations(document(service))
    deployed = deployed_routes(aws, routes, integrations, service)
    assert set(deployed) == set(documented), (
        f"{service}: deployed but not in services/{service}/openapi.json: {sorted(set(deployed) - set(documented))}; "
        f"documented but not deployed: {sorted(set(documented) - set(deployed))}"
    )
    for key, route in deployed.items():
        integration = integrations[route["Target"].split("/", 1)[1]]
        assert integration["IntegrationType"] == "AWS_PROXY", key
        assert integration["PayloadFormatVersion"] == "2.0", key


def test_only_registration_is_public():
    documented = {}
    for service in SERVICES:
        documented.update(operations(document(service)))
    assert {key for key, operation in documented.items() if not operation.get("security")} == PUBLIC_OPERATIONS


@pytest.mark.parametrize("service", SERVICES)
def test_documented_security_matches_the_authorizer(aws, routes, integrations, platform, service):
    documented = operations(document(service))
    for key, route in deployed_routes(aws, routes, integrations, service).items():
        public = not documented[key].get("security")
        expected = "NONE" if public else "JWT"
        assert route["AuthorizationType"] == expected, (
            f"{service} {key}: documented {'public' if public else 'bearer JWT'}, deployed {route['AuthorizationType']}"
        )
        assert route.get("AuthorizerId") == (None if public else platform["authorizer_id"]), key
