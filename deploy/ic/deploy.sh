#!/usr/bin/env bash
# Installs or upgrades the canisters on a dfx network with that network's threshold-ECDSA key,
# so no file needs editing between networks (dfx.json's `init_arg` is the local one):
#
#   deploy/ic/deploy.sh local     # dfx_test_key (dfx's local replica)
#   deploy/ic/deploy.sh staging   # test_key_1   (mainnet subnets, test key)
#   deploy/ic/deploy.sh ic        # key_1        (mainnet production key)
#
# Extra arguments go to every `dfx deploy` (e.g. `--yes`). `DFX` overrides the dfx binary.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

network="${1:-}"
case "$network" in
  local) key=dfx_test_key ;;
  staging) key=test_key_1 ;;
  ic) key=key_1 ;;
  *)
    echo "usage: deploy/ic/deploy.sh <local|staging|ic> [dfx deploy options]" >&2
    exit 2
    ;;
esac
shift

dfx="${DFX:-dfx}"
for canister in credits identity; do
  "$dfx" deploy --network "$network" "$canister" \
    --argument "(record { ecdsa_key_name = \"$key\" })" "$@"
done
