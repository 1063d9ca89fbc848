#!/usr/bin/env bash
# Regenerate the example reports from the workspace root: bash reports/examples/regenerate.sh
# Without --bench: overhead numbers from a shared machine would be noise.
# --confirm runs every counterexample through the kernel (needs root and seccomp).
set -uo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p seccheck || exit 2
# Exit 1 from a report means its verdict fails (both examples do: that is
# what they show); 2 (bad input) or anything else stops the script.
report() {
    target/release/seccheck report "$@"
    local rc=$?
    if [ "$rc" -gt 1 ]; then
        echo "regenerate.sh: seccheck report $* failed with exit code $rc" >&2
        exit "$rc"
    fi
}
for fmt in html md; do
    report corpus/profiles/docker_default.json \
        --policy reports/examples/docker_default.policy.toml \
        --against corpus/profiles/podman_containers_common.json --confirm \
        -o "reports/examples/docker_default.$fmt"
    report corpus/profiles/seed_backend_denylist.json \
        --policy reports/examples/seed_backend_denylist.policy.toml --confirm \
        -o "reports/examples/seed_backend_denylist.$fmt"
done
