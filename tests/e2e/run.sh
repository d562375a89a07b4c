#!/bin/sh
# End-to-end: the real openai SDK and Codex CLI (from npm, pinned in package-lock.json)
# against `wafer serve` on loopback, over HTTP/SSE and WebSocket; then stored responses
# surviving a kill -9 of the server. Usage: tests/e2e/run.sh BUILD_DIR
set -eu
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-$(cd "$HERE/../../.." && pwd)/shared}
WAFER="$BUILD/wafer"
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

cd "$HERE"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund >/dev/null 2>&1 || npm ci --no-audit --no-fund
fi

MODEL="$BUILD/e2e-tiny-turns.gguf"
[ -f "$MODEL" ] || "$WAFER" synth --shape tiny --type q8_0 --turn-end-logit 3.5 \
  --vocab "$SHARED/vocab/ggml-vocab-qwen2.gguf" -o "$MODEL" 2>/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"

start_server() {
  "$WAFER" serve -m "$MODEL" --port "$PORT" -t 2 --store "$WORK/responses.db" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    curl -sf "$URL/health" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; echo "e2e: server exited"; exit 1; }
    sleep 0.2
  done
  echo "e2e: server did not come up"; cat "$WORK/server.log"; exit 1
}

start_server
echo "e2e: openai SDK tests against $URL"
# --test-force-exit: the SDK keeps a timer alive ~120 s after ResponsesWS.close() (the server
# has closed the socket by then; its log says ws_closed).
FORCE_EXIT=$(node --help | grep -q -- --test-force-exit && echo --test-force-exit || true)
WAFER_URL="$URL" node --test --test-concurrency=1 $FORCE_EXIT sdk.test.mjs

# Codex CLI over HTTP/SSE and over WebSocket; each `codex exec` must complete its turn.
for transport in http websocket; do
  export CODEX_HOME="$WORK/codex-$transport"
  mkdir -p "$CODEX_HOME"
  ws=false; [ "$transport" = websocket ] && ws=true
  cat >"$CODEX_HOME/config.toml" <<TOML
model = "wafer"
model_provider = "wafer"
[model_providers.wafer]
name = "wafer"
base_url = "$URL/v1"
wire_api = "responses"
supports_websockets = $ws
model_catalog_url = "$URL/v1/codex/models"
request_max_retries = 0
stream_max_retries = 0
TOML
  echo "e2e: codex exec over $transport"
  if ! timeout 600 "$HERE/node_modules/.bin/codex" exec --skip-git-repo-check -s read-only \
      "Say hello" >"$WORK/codex-$transport.out" 2>"$WORK/codex-$transport.err"; then
    echo "e2e: codex exec over $transport failed"; tail -20 "$WORK/codex-$transport.err"; tail -20 "$WORK/server.log"; exit 1
  fi
done

# A stored response survives kill -9 and a restart.
ID=$(curl -sf "$URL/v1/responses" -H 'content-type: application/json' \
  -d '{"model":"x","input":"keep me","max_output_tokens":4}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
start_server
curl -sf "$URL/v1/responses/$ID" | python3 -c "import json,sys; d=json.load(sys.stdin); assert d['id']=='$ID', d"
curl -sf "$URL/v1/responses/$ID/input_items" | python3 -c "import json,sys; d=json.load(sys.stdin); assert d['data'], d"
echo "e2e: all passed"
