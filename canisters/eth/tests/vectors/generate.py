#!/usr/bin/env python3
"""Independent test vectors for the `heaven_eth` crate.

Generated ONCE and committed as `vectors.json`; CI never runs Python. Regenerate with:

    python3 -m venv /tmp/ethvenv
    /tmp/ethvenv/bin/pip install 'eth-account==0.13.*' eth-abi eth-utils
    /tmp/ethvenv/bin/python canisters/eth/tests/vectors/generate.py > canisters/eth/tests/vectors/vectors.json

The versions used are recorded in the output under "generator".
"""

import json
import sys
from importlib.metadata import version

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct, encode_typed_data
from eth_utils import keccak, to_checksum_address

# Hardhat account #0.
PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ACCOUNT = Account.from_key(PRIVATE_KEY)


def h(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def typed(domain_types, domain, primary, types, message):
    """Domain separator, struct hash, digest and signature of one EIP-712 message."""
    full = {
        "types": {"EIP712Domain": domain_types, **types},
        "primaryType": primary,
        "domain": domain,
        "message": message,
    }
    signable = encode_typed_data(full_message=full)
    signed = Account.sign_message(signable, PRIVATE_KEY)
    return {
        "domain_separator": h(signable.header),
        "struct_hash": h(signable.body),
        "digest": h(_hash_eip191_message(signable)),
        "signature": h(signed.signature),
    }


DOMAIN_TYPES = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]

# --- EIP-712 spec "Mail" example ---------------------------------------------------------------
mail = typed(
    DOMAIN_TYPES,
    {
        "name": "Ether Mail",
        "version": "1",
        "chainId": 1,
        "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
    },
    "Mail",
    {
        "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
        "Mail": [
            {"name": "from", "type": "Person"},
            {"name": "to", "type": "Person"},
            {"name": "contents", "type": "string"},
        ],
    },
    {
        "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
        "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
        "contents": "Hello, Bob!",
    },
)

# --- NamePermit (PremiumNameStoreV2) ----------------------------------------------------------
NAME_PERMIT_TYPES = {
    "NamePermit": [
        {"name": "buyer", "type": "address"},
        {"name": "recipient", "type": "address"},
        {"name": "parentNode", "type": "bytes32"},
        {"name": "labelHash", "type": "bytes32"},
        {"name": "duration", "type": "uint256"},
        {"name": "maxPrice", "type": "uint256"},
        {"name": "policyType", "type": "uint8"},
        {"name": "nullifierHash", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
NAME_CHAIN = 42431
STORE = "0x46Bcae2625157b562c974bb5a912dfcb811a234A"


def name_permit(label, permit):
    out = typed(
        DOMAIN_TYPES,
        {"name": "PremiumNameStoreV2", "version": "2", "chainId": NAME_CHAIN, "verifyingContract": STORE},
        "NamePermit",
        NAME_PERMIT_TYPES,
        permit,
    )
    tuple_type = "(address,address,bytes32,bytes32,uint256,uint256,uint8,bytes32,uint256,uint256)"
    sig_text = f"buyWithPermit(string,{tuple_type},bytes)"
    selector = keccak(text=sig_text)[:4]
    permit_tuple = tuple(permit[f["name"]] for f in NAME_PERMIT_TYPES["NamePermit"])
    calldata = selector + abi_encode(
        ["string", tuple_type, "bytes"], [label, permit_tuple, bytes.fromhex(out["signature"][2:])]
    )
    # Integers as decimal strings: maxPrice may exceed 2^53.
    json_permit = {k: (h(v) if isinstance(v, bytes) else str(v) if isinstance(v, int) else v) for k, v in permit.items()}
    return {
        "chain_id": NAME_CHAIN,
        "store": STORE,
        "label": label,
        "permit": json_permit,
        **out,
        "buy_with_permit_signature": sig_text,
        "buy_with_permit_calldata": h(calldata),
    }


BUYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
PARENT = bytes.fromhex("8edf6f47e89d05c0e21320161fda1fd1fabd0081a66c959691ea17102e39fb27")
permit1 = name_permit(
    "alice-long",
    {
        "buyer": BUYER,
        "recipient": BUYER,
        "parentNode": PARENT,
        "labelHash": keccak(text="alice-long"),
        "duration": 31536000,
        "maxPrice": 5000000,
        "policyType": 1,
        "nullifierHash": bytes(32),
        "nonce": 123456789,
        "deadline": 1771600000,
    },
)
permit2 = name_permit(
    "bob",
    {
        "buyer": BUYER,
        "recipient": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
        "parentNode": PARENT,
        "labelHash": keccak(text="bob"),
        "duration": 2592000,
        "maxPrice": 2**200 + 7,
        "policyType": 0,
        "nullifierHash": keccak(text="nullifier:bob"),
        "nonce": 42,
        "deadline": 1771600120,
    },
)

# --- SetProfile (DatingProfileV3) -------------------------------------------------------------
PROFILE_CHAIN = 84532
PROFILE_CONTRACT = "0x2D950745907874311834510d6472bdfebe04A114"
SET_PROFILE_FIELDS = [
    ("user", "address"),
    ("gender", "uint8"),
    ("interestedMask", "uint16"),
    ("locationMode", "uint8"),
    ("locationLat", "int32"),
    ("locationLng", "int32"),
    ("heightCm", "uint16"),
    ("birthYear", "uint16"),
    ("nationalityCode", "uint16"),
    ("ethnicityMask", "uint16"),
    ("relationshipMode", "uint8"),
    ("privateCidHash", "bytes32"),
    ("nonce", "uint256"),
    ("deadline", "uint256"),
]
private_cid = b"bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
profile = {
    "user": ACCOUNT.address,
    "gender": 2,
    "interestedMask": 0x0105,
    "locationMode": 1,
    "locationLat": -33868800,
    "locationLng": 151209300,
    "heightCm": 178,
    "birthYear": 1994,
    "nationalityCode": 36,
    "ethnicityMask": 0x0012,
    "relationshipMode": 3,
    "privateCidHash": keccak(private_cid),
    "nonce": 5,
    "deadline": 1771600120,
}
set_profile = typed(
    DOMAIN_TYPES,
    {"name": "DatingProfileV3", "version": "1", "chainId": PROFILE_CHAIN, "verifyingContract": PROFILE_CONTRACT},
    "SetProfile",
    {"SetProfile": [{"name": n, "type": t} for n, t in SET_PROFILE_FIELDS]},
    profile,
)
sp_types = [t for _, t in SET_PROFILE_FIELDS[:11]] + ["bytes", "uint256", "bytes"]
sp_sig_text = "setProfileWithSig(" + ",".join(sp_types) + ")"
sp_values = [profile[n] for n, _ in SET_PROFILE_FIELDS[:11]] + [
    private_cid,
    profile["deadline"],
    bytes.fromhex(set_profile["signature"][2:]),
]
sp_calldata = keccak(text=sp_sig_text)[:4] + abi_encode(sp_types, sp_values)

# --- registerFor (MultiTldSubnameRegistrarV3) -------------------------------------------------
rf_sig_text = "registerFor(bytes32,string,address,uint256)"
rf_calldata = keccak(text=rf_sig_text)[:4] + abi_encode(
    ["bytes32", "string", "address", "uint256"], [PARENT, "alice", BUYER, 31536000]
)

# --- EIP-191 personal_sign --------------------------------------------------------------------
def personal(lines):
    message = "\n".join(lines)
    signable = encode_defunct(text=message)
    signed = Account.sign_message(signable, PRIVATE_KEY)
    return {"message": message, "hash": h(_hash_eip191_message(signable)), "signature": h(signed.signature)}


claim = personal(
    [
        "heaven-claim:v1",
        "claim_id=11111111-2222-3333-4444-555555555555",
        "shadow_profile_id=shadow-alex-sf",
        "address=0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
        "nonce=abcdef0123456789",
        "issued_at=1771600000",
        "expires_at=1771600120",
    ]
)
names = personal(
    [
        "heaven-registry:v1",
        "action=register",
        "tld=heaven",
        "label=alice",
        "pkp=0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
        "nonce=abcdef0123456789",
        "issued_at=1771600000",
        "expires_at=1771600120",
        "profile_cid=",
    ]
)
unicode_msg = personal(["héllo wörld ✓"])

# --- EIP-1559 transaction ---------------------------------------------------------------------
tx = {
    "type": 2,
    "chainId": PROFILE_CHAIN,
    "nonce": 7,
    "maxPriorityFeePerGas": 1_000_000_000,
    "maxFeePerGas": 3_000_000_000,
    "gas": 200000,
    "to": PROFILE_CONTRACT,
    "value": 0,
    "data": h(sp_calldata),
    "accessList": [],
}
signed_tx = Account.sign_transaction(tx, PRIVATE_KEY)
tx_value = dict(tx, value=10**15, nonce=0, data="0x")
signed_tx_value = Account.sign_transaction(tx_value, PRIVATE_KEY)


def tx_json(t, s):
    return {
        "chain_id": t["chainId"],
        "nonce": t["nonce"],
        "max_priority_fee_per_gas": t["maxPriorityFeePerGas"],
        "max_fee_per_gas": t["maxFeePerGas"],
        "gas_limit": t["gas"],
        "to": t["to"],
        "value": str(t["value"]),
        "data": t["data"],
        "raw": h(s.raw_transaction),
        "hash": h(s.hash),
        "r": hex(s.r),
        "s": hex(s.s),
        "y_parity": s.v,
    }


out = {
    "generator": {
        "script": "canisters/eth/tests/vectors/generate.py",
        "python": sys.version.split()[0],
        "eth-account": version("eth-account"),
        "eth-abi": version("eth-abi"),
        "eth-utils": version("eth-utils"),
    },
    "signer": {"private_key": PRIVATE_KEY, "address": ACCOUNT.address},
    "mail": mail,
    "name_permits": [permit1, permit2],
    "set_profile": {
        "chain_id": PROFILE_CHAIN,
        "contract": PROFILE_CONTRACT,
        "profile": {k: (h(v) if isinstance(v, bytes) else v) for k, v in profile.items()},
        "private_cid": h(private_cid),
        **set_profile,
        "set_profile_with_sig_signature": sp_sig_text,
        "set_profile_with_sig_calldata": h(sp_calldata),
    },
    "register_for": {
        "signature": rf_sig_text,
        "parent_node": h(PARENT),
        "label": "alice",
        "to": BUYER,
        "duration": 31536000,
        "calldata": h(rf_calldata),
    },
    "eip191": [claim, names, unicode_msg],
    "eip1559": [tx_json(tx, signed_tx), tx_json(tx_value, signed_tx_value)],
    "checksum": [to_checksum_address(a) for a in [
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359",
        "0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb",
        "0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb",
    ]],
}
json.dump(out, sys.stdout, indent=2)
print()
