#!/usr/bin/env bash
# Property-based API test: schemathesis generates requests from the host's own /openapi.json
# and fails on any 5xx. Usage: tests/api-fuzz/schemathesis.sh <venv with schemathesis> <arcbench binary>
set -euo pipefail
venv="$1"
arcbench="$2"
work="$(mktemp -d)"
trap 'kill "${host_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/repo"
git -C "$work/repo" init -q -b main
echo "hello" > "$work/repo/a.txt"
git -C "$work/repo" add -A
git -C "$work/repo" -c user.name=fuzz -c user.email=fuzz@example.invalid commit -qm init
key="fuzz-key-0123456789abcdef"
# No agent (--python points nowhere): prompts fail fast with a reason, which is valid behaviour.
# No transcriber (it would install one): recordings are checked, then refused with a reason.
ARCBENCH_API_KEY="$key" "$arcbench" serve --repo "$work/repo" --data-dir "$work/data" --port 0 \
    --python /nonexistent/python --no-transcriber >"$work/out" 2>"$work/err" &
host_pid=$!
for _ in $(seq 100); do
    url="$(sed -n 's/^listening on //p' "$work/out" | head -n 1)"
    [[ -n "$url" ]] && break
    sleep 0.1
done
[[ -n "$url" ]] || { cat "$work/err"; echo "host did not start" >&2; exit 1; }
cd "$work"
"$venv/bin/schemathesis" run "$url/openapi.json" \
    -H "Authorization: Bearer $key" \
    --checks not_a_server_error \
    --max-examples 25 --workers 1 --seed 1
