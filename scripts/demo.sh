#!/bin/sh
# The main job, end to end, against the local sandbox: start the sandbox on
# loopback, check connectivity, run real commands on a sandbox instance, and
# copy a binary file from it into the vault. Run it through `make demo`,
# which builds bin/ first.
set -eu
cd "$(dirname "$0")/.."

demo=$PWD/.demo
rm -rf "$demo"
mkdir -p "$demo/vault" "$demo/evidence"

# Stop the sandbox on every way out. After a signal trap runs, the shell
# resumes the script, so each signal trap exits with the status that the
# signal would give (128 + its number), and exit runs the EXIT trap. The
# traps are set before the sandbox starts, so no signal can come between.
sandbox_pid=
watchdog_pid=
stop_sandbox() {
    if [ -n "$watchdog_pid" ]; then
        kill "$watchdog_pid" 2>/dev/null || true
    fi
    if [ -n "$sandbox_pid" ]; then
        kill "$sandbox_pid" 2>/dev/null || true
        wait "$sandbox_pid" 2>/dev/null || true
    fi
}
trap stop_sandbox EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

# Start the sandbox; its first line on stdout is endpoint=http://127.0.0.1:PORT.
bin/awsssm-sandbox --addr 127.0.0.1:0 --state-dir "$demo/sandbox" >"$demo/sandbox.out" 2>"$demo/sandbox.log" &
sandbox_pid=$!

# No trap runs when this script is killed with SIGKILL, so a watchdog checks
# every second that the script is still alive and stops the sandbox when it
# is not. It ignores HUP, INT and QUIT, which a closed terminal, Ctrl-C and
# Ctrl-\ send to the whole process group, so that it outlives the script.
# Its output goes to /dev/null, so it keeps no pipe open and a reader such
# as `make demo | less` gets the end of the output when the script ends.
script_pid=$$
(
    trap '' HUP INT QUIT
    while kill -0 "$script_pid" 2>/dev/null; do
        sleep 1
    done
    kill "$sandbox_pid" 2>/dev/null
) </dev/null >/dev/null 2>&1 &
watchdog_pid=$!

endpoint=
tries=0
while [ -z "$endpoint" ] && [ "$tries" -lt 100 ]; do
    if ! kill -0 "$sandbox_pid" 2>/dev/null; then
        echo "demo: the sandbox exited; its log:" >&2
        cat "$demo/sandbox.log" >&2
        exit 1
    fi
    endpoint=$(sed -n 's/^endpoint=//p' "$demo/sandbox.out" | head -n 1)
    [ -n "$endpoint" ] || sleep 0.1
    tries=$((tries + 1))
done
if [ -z "$endpoint" ]; then
    echo "demo: the sandbox printed no endpoint within 10 seconds; see $demo/sandbox.log" >&2
    exit 1
fi
# The SDK's instance metadata client reads this; use_role assets need it.
export AWS_EC2_METADATA_SERVICE_ENDPOINT="$endpoint"

# The asset: AWS's documented example key pair, which only the sandbox
# accepts. Asset files hold secrets, so this one is readable by its owner only.
umask 077
cat >"$demo/asset.json" <<JSON
{
  "region": "US East (N. Virginia)",
  "access_key": "AKIAIOSFODNN7EXAMPLE",
  "secret_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "default_s3_bucket": "awsssm-demo-output",
  "endpoint_url": "$endpoint"
}
JSON

# Evidence on the instance: a binary file at a path with a space and a quote.
evidence="$demo/evidence/suspect's payload.bin"
head -c 1048576 /dev/urandom >"$evidence"

step() {
    printf '\n==> %s\n' "$1"
}

awsssm() {
    bin/awsssm "$@" --config "$demo/asset.json" --vault-dir "$demo/vault" --pretty
}

echo "Sandbox at $endpoint (log: .demo/sandbox.log)"

step "test connectivity"
awsssm test_connectivity

step "execute program: uname, id and a listing on i-0123456789abcdef0"
awsssm execute_program \
    --param instance_id=i-0123456789abcdef0 \
    --param command='uname -a; id -un; echo "cwd: $(pwd)"; ls -la /etc | head -n 5' \
    --param save_output_to_vault=true

step "get file: $evidence"
awsssm get_file \
    --param instance_id=i-0123456789abcdef0 \
    --param file_path="$evidence"

step "vault"
find "$demo/vault" -type f | sed "s|^$demo/||"
expected=$(sha256sum "$evidence" | cut -d ' ' -f 1)
if find "$demo/vault" -type f -name "suspect's payload.bin" -exec sha256sum {} + | grep -q "^$expected "; then
    echo "The vault copy's SHA-256 equals the instance file's: $expected"
else
    echo "demo: the vault copy of the evidence file does not match its SHA-256" >&2
    exit 1
fi
