#!/usr/bin/env bash
# `make test` after the lint steps: the OpenAPI, template and route checks, then
# all workspace tests. Each suite (test process) starts its own DynamoDB Local,
# SES emulator and AWS emulator when it first needs one (each test makes its own
# table): one instance serving every suite in turn answered several times slower
# by the later suites, past the clients' timeouts. AWS_ENDPOINT_URL_DYNAMODB, when
# set, points every suite at one instance instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/env.sh
state=.local
mkdir -p "$state"

.venv/bin/openapi-spec-validator infra/openapi.yaml
.venv/bin/python infra/local/check_spec.py
.venv/bin/cfn-lint infra/template.yaml && echo "cfn-lint: 0 errors, 0 warnings"
bash infra/local/sam_validate.sh
.venv/bin/checkov -d infra --framework cloudformation --quiet --compact --skip-download 2>/dev/null
.venv/bin/python infra/local/check_routes.py
.venv/bin/python infra/local/check_template.py
.venv/bin/python infra/local/check_emulator.py

# The end-to-end test serves the function binaries through cargo lambda watch.
# With local mode (`--features licensing/local`), as `make dev` builds them.
cargo build --workspace --bins --quiet --features licensing/local
set +e
cargo test --workspace --features licensing/local --no-fail-fast -- --test-threads="${TEST_THREADS:-4}" 2>&1 | tee "$state/test.log"
status=${PIPESTATUS[0]}
set -e
# One closing line over every suite.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$state/test.log"
exit "$status"
