#!/usr/bin/env bash
# Regenerate the example reports from the workspace root: bash reports/examples/regenerate.sh
# Without --bench: overhead numbers from a shared machine would be noise.
set -uo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p seccheck || exit 2
s=target/release/seccheck
for fmt in html md; do
    "$s" report corpus/profiles/docker_default.json \
        --policy reports/examples/docker_default.policy.toml \
        --against corpus/profiles/podman_containers_common.json \
        -o "reports/examples/docker_default.$fmt"
    "$s" report corpus/profiles/seed_backend_denylist.json \
        --policy reports/examples/seed_backend_denylist.policy.toml \
        -o "reports/examples/seed_backend_denylist.$fmt"
done
# Exit 1 from a report means its verdict fails (both examples do: that is
# what they show); only 2 (bad input) is an error here.
exit 0
