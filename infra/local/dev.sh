#!/usr/bin/env bash
# `make dev`: DynamoDB Local, the SES v2 emulator, the AWS emulator (SQS, KMS and
# EventBridge for webhooks), the table (with its stream), every function behind the
# contract's routes (cargo lambda watch), the stream relay that feeds `notify`, the
# queue relay that feeds `deliver`, demo data from events/demo/. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/env.sh
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
export AWS_ENDPOINT_URL_SESV2="http://127.0.0.1:$SES_PORT"
for service in SQS KMS EVENTBRIDGE; do
  export "AWS_ENDPOINT_URL_$service=http://127.0.0.1:$AWS_EMULATOR_PORT"
done
state=.local
mkdir -p "$state"

# A previous `make dev` that is still running is replaced, not fought with.
for name in relay queue-relay gateway watch aws ses dynamodb; do stop_pidfile "$state/$name.pid"; done
for port in "$DYNAMODB_PORT" "$API_PORT" "$WATCH_PORT" "$SES_PORT" "$AWS_EMULATOR_PORT"; do
  if port_in_use "$port"; then
    echo "port $port is taken by another program; stop it or set DYNAMODB_PORT / API_PORT" >&2
    exit 1
  fi
done

# Stops only what this run started: a newer `make dev` may own the pid files.
mine=()
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "stopping the local stack..."
  for f in "${mine[@]}"; do stop_pidfile "$f"; done
}
trap cleanup EXIT INT TERM

echo "building the functions and the console..."
cargo build --workspace --bins --quiet --features licensing/local
(cd console && npm run --silent build >/dev/null)

start_dynamodb "$DYNAMODB_PORT" "$state/dynamodb.log" >"$state/dynamodb.pid"
cp "$state/dynamodb.pid" "$state/dynamodb.pid.$$"
mine+=("$state/dynamodb.pid.$$")
wait_port "$DYNAMODB_PORT" 60
cargo run --quiet -p licensing-tests --bin create-table "$TABLE_NAME"

start_ses "$SES_PORT" "$state/ses.log" >"$state/ses.pid"
cp "$state/ses.pid" "$state/ses.pid.$$"
mine+=("$state/ses.pid.$$")
wait_port "$SES_PORT" 30

start_aws_emulator "$AWS_EMULATOR_PORT" "$state/aws.log" >"$state/aws.pid"
cp "$state/aws.pid" "$state/aws.pid.$$"
mine+=("$state/aws.pid.$$")
wait_port "$AWS_EMULATOR_PORT" 30
# The webhook queue, the secrets' key and the account's bus; their names for the functions.
while IFS= read -r setting; do export "${setting?}"; done < <(.venv/bin/python infra/local/aws_setup.py licensing-webhooks licensing-local)
# Retries of webhook deliveries 100 times sooner than deployed (5 s → 50 ms, 10 h → 6 min):
# a receiver that is down is seen to get its events within minutes (local builds only).
export WEBHOOK_RETRY_SCALE=${WEBHOOK_RETRY_SCALE:-0.01}

# `--features licensing/local`: AUTH_MODE=local-unverified exists only in such builds.
# Up to 4 instances per function, as Lambda runs several (deliver's batches side by side).
setsid cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" --ignore-changes \
  --features licensing/local --concurrency 4 \
  >"$state/watch.log" 2>&1 &
watch_pid=$!
echo "$watch_pid" >"$state/watch.pid"
cp "$state/watch.pid" "$state/watch.pid.$$"
mine+=("$state/watch.pid.$$")
wait_port "$WATCH_PORT" 120

# The portal's entry point: API Gateway's request limits in front of the watch.
# It also serves the console (console/dist) under /console/.
setsid .venv/bin/python infra/local/gateway.py "$API_PORT" "$WATCH_PORT" console/dist >"$state/gateway.log" 2>&1 &
echo $! >"$state/gateway.pid"
cp "$state/gateway.pid" "$state/gateway.pid.$$"
mine+=("$state/gateway.pid.$$")
wait_port "$API_PORT" 30

NOTIFY_INVOKE_URL="http://127.0.0.1:$WATCH_PORT/2015-03-31/functions/notify/invocations" \
  setsid .venv/bin/python infra/local/stream_relay.py >"$state/relay.log" 2>&1 &
echo $! >"$state/relay.pid"
cp "$state/relay.pid" "$state/relay.pid.$$"
mine+=("$state/relay.pid.$$")

DELIVER_INVOKE_URL="http://127.0.0.1:$WATCH_PORT/2015-03-31/functions/deliver/invocations" \
  setsid .venv/bin/python infra/local/queue_relay.py >"$state/queue-relay.log" 2>&1 &
echo $! >"$state/queue-relay.pid"
cp "$state/queue-relay.pid" "$state/queue-relay.pid.$$"
mine+=("$state/queue-relay.pid.$$")

echo "provisioning demo data..."
for event in events/demo/*.json; do
  printf '  %s -> ' "$(basename "$event")"
  curl -sS --max-time 300 -X POST "http://127.0.0.1:$API_PORT/2015-03-31/functions/provision/invocations" \
    -H 'content-type: application/json' --data-binary "@$event"
  echo
done

admin_token=$(cat events/demo/tokens/admin.jwt)
user_token=$(cat events/demo/tokens/user.jwt)
# A provisioning token of cust-1001 for SCIM, created as its admin would (the database is new
# at every start, so this is the customer's only token).
scim_token=$(curl -sS --max-time 60 -X POST "http://127.0.0.1:$API_PORT/tokens" \
  -H "Authorization: Bearer $admin_token" -H 'content-type: application/json' \
  -d '{"name": "make dev", "scopes": ["scim"]}' |
  .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin).get("token", "(not created)"))')
cat <<TXT

The licence API runs on http://127.0.0.1:$API_PORT  (DynamoDB Local on :$DYNAMODB_PORT, table $TABLE_NAME)
Logs: $state/watch.log, $state/relay.log, $state/queue-relay.log, $state/dynamodb.log, $state/ses.log, $state/aws.log

Invitation mails land in the SES emulator: http://127.0.0.1:$SES_PORT (web page),
http://127.0.0.1:$SES_PORT/store (JSON). The stream relay feeds new assignments to notify.

Reminders (deployed: once a day) run when invoked; {"today": ...} acts as if on that day
(local mode only). On 2027-12-01 the buyer of the Repair Data licence, which does not
renew, hears that it ends in 30 days:
  curl -sS -X POST http://127.0.0.1:$API_PORT/2015-03-31/functions/remind/invocations -d @events/remind.json

The console (Manage Your Licenses): http://127.0.0.1:$API_PORT/console/
  (sign in as one of the demo identities below)

Demo licence admin of cust-1001 (buyer@example.com):
  export TOKEN=$admin_token
A portal user (anna@example.com):
  export USER_TOKEN=$user_token

  curl -s http://127.0.0.1:$API_PORT/licenses -H "Authorization: Bearer \$TOKEN"
  LIC=lic_6CGKN22FHMWP935DWKR78NWDA8   # TecDoc Catalogue, 5 seats, the buyer holds one
  curl -s -X POST http://127.0.0.1:$API_PORT/licenses/\$LIC/assignments -H "Authorization: Bearer \$TOKEN" \\
       -d '{"emails": "anna@example.com; \"Meier, Bob\" <bob@example.com>\ncarl@example.com"}'
  curl -s -X PATCH http://127.0.0.1:$API_PORT/licenses/\$LIC/assignments/anna@example.com -H "Authorization: Bearer \$TOKEN" -d '{"validUntil": "2027-06-30"}'
  curl -s -X DELETE http://127.0.0.1:$API_PORT/licenses/\$LIC/assignments/bob@example.com -H "Authorization: Bearer \$TOKEN"
  curl -s "http://127.0.0.1:$API_PORT/licenses/\$LIC/history?limit=5" -H "Authorization: Bearer \$TOKEN"
  # The order system: a purchase, then its renewal (also quantity-changed.json, cancelled.json)
  curl -s -X POST http://127.0.0.1:$API_PORT/2015-03-31/functions/provision/invocations -d @events/provision.json
  curl -s -X POST http://127.0.0.1:$API_PORT/2015-03-31/functions/provision/invocations -d @events/renewed.json
  curl -s http://127.0.0.1:$API_PORT/me/licenses -H "Authorization: Bearer \$USER_TOKEN"
  # 403 email-not-verified: the same person, e-mail not verified
  curl -s http://127.0.0.1:$API_PORT/me/licenses -H "Authorization: Bearer $(cat events/demo/tokens/unverified.jwt)"

SCIM 2.0, as an identity provider sees it (base URL http://127.0.0.1:$API_PORT/scim/v2), with
cust-1001's provisioning token (the README walks through a deprovisioning):
  export SCIM_TOKEN=$scim_token
  curl -s http://127.0.0.1:$API_PORT/scim/v2/ServiceProviderConfig -H "Authorization: Bearer \$SCIM_TOKEN"

Webhooks (v3): a receiver that verifies every delivery with the Standard Webhooks library
(the README walks through it):
  .venv/bin/python infra/local/webhook_receiver.py 8090 &
  curl -s -X POST http://127.0.0.1:$API_PORT/webhooks -H "Authorization: Bearer \$TOKEN" \
       -d '{"url": "http://127.0.0.1:8090/demo/ok", "events": ["*"]}'

Press Ctrl-C to stop everything.
TXT
wait "$watch_pid" || true
