#!/usr/bin/env bash
# `sam validate --lint` of infra/template.yaml (make test, next to cfn-lint), with the AWS SAM
# CLI pinned in infra/local/requirements-sam.txt. It lives in a venv of its own, ./.venv-sam
# (it pins another boto3 than checkov in ./.venv), made here when missing or older than its
# requirements, like `make setup` makes ./.venv. Linting needs no AWS account: no
# credentials, profile or telemetry, a fixed region (the one the local stack uses).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.venv-sam
requirements=infra/local/requirements-sam.txt
if [ ! -e "$venv/.installed" ] || [ "$requirements" -nt "$venv/.installed" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  touch "$venv/.installed"
fi
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null SAM_CLI_TELEMETRY=0 \
  AWS_DEFAULT_REGION=eu-central-1 \
  "$venv/bin/sam" validate --lint --region eu-central-1 --template infra/template.yaml
