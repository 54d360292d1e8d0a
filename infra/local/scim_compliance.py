"""SCIM 2.0 compliance of the local stack, by an outside checker (scim2-tester,
installed into ./.venv by `make setup`): discovery, then create, read (with
`attributes` and `excludedAttributes`, by id, in lists and searches), replace,
PATCH and delete of every resource type the server lists.

usage: SCIM_TOKEN=<provisioning token> scim_compliance.py <base URL, …/scim/v2> [-v]

Exits 1 when a check ends in ERROR or CRITICAL. The server answers 429 beyond
20 requests a second per token (as deployed); the checker is sent again after
the answer's Retry-After, as an identity provider would.
"""

import os
import sys
import time

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


class PatientTransport(httpx2.HTTPTransport):
    """Sends a request again after a 429's Retry-After (at most 30 times)."""

    def handle_request(self, request):
        for _ in range(30):
            response = super().handle_request(request)
            if response.status_code != 429:
                return response
            response.read()
            response.close()
            time.sleep(float(response.headers.get("retry-after") or 1))
        return response


def main():
    base = sys.argv[1]
    verbose = "-v" in sys.argv[2:]
    http = httpx2.Client(
        base_url=base,
        headers={"Authorization": f"Bearer {os.environ['SCIM_TOKEN']}"},
        timeout=30,
        trust_env=False,
        transport=PatientTransport(),
    )
    results = check_server(SyncSCIMClient(http))
    failed = [r for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    for r in results:
        if verbose or r in failed:
            print(f"{r.status.name:9} {r.resource_type or '-':5} {r.title}: {r.reason or ''}")
            if r in failed and r.data is not None:
                print(f"          {r.data!r}"[:2000])
    counts = {s.name: n for s in Status if (n := sum(r.status == s for r in results))}
    print(f"scim2-tester: {len(results)} checks, {counts}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
