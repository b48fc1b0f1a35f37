//! The `ic0.cost_*` functions: what the IC would charge, on a 13-node application subnet, with
//! the fee constants of the IC interface specification and the pricing pages. The harness only
//! reports these prices (management calls check the attached cycles against them); it keeps no
//! cycle balance.

use candid::{CandidType, Deserialize};

use crate::system_api::{Ctx, R, Registry, read, trap, utf8_arg, write_u128};

/// Nodes of the subnet the prices are for.
pub const NODES: u128 = 13;

/// Threshold key names the harness knows, for every algorithm.
pub const KEY_NAMES: &[&str] = &["dfx_test_key", "test_key_1", "key_1"];

/// Price of one threshold signature (or vetKD derivation) with `key_name`, if the key exists.
pub fn signature_fee(key_name: &str) -> Option<u128> {
    match key_name {
        "key_1" => Some(26_153_846_153),
        "test_key_1" | "dfx_test_key" => Some(10_000_000_000),
        _ => None,
    }
}

/// Price of an inter-canister call with this method name and payload size.
pub fn call_fee(method_name_size: u64, payload_size: u64) -> u128 {
    260_000 + 1_000 * (method_name_size as u128 + payload_size as u128)
}

/// Legacy (pricing version 1) price of an HTTP outcall.
pub fn http_request_fee(request_size: u64, max_response_bytes: u64) -> u128 {
    (3_000_000 + 60_000 * NODES) * NODES
        + 400 * NODES * request_size as u128
        + 800 * NODES * max_response_bytes as u128
}

/// The parameter record of `ic0.cost_http_request_v2`.
#[derive(CandidType, Deserialize)]
struct HttpCostParams {
    request_bytes: u64,
    http_roundtrip_time_ms: u64,
    raw_response_bytes: u64,
    transformed_response_bytes: u64,
    transform_instructions: u64,
    outcall_type: Option<candid::Reserved>,
}

/// Pricing version 2 budget: the legacy formula over the bytes actually expected, plus the
/// transform's instructions and the round trip. A plausible figure, not the IC's exact one.
fn http_request_v2_fee(p: &HttpCostParams) -> u128 {
    http_request_fee(
        p.request_bytes,
        p.raw_response_bytes + p.transformed_response_bytes,
    ) + NODES * (p.transform_instructions as u128 / 10 + 1_000 * p.http_roundtrip_time_ms as u128)
}

fn signature_cost(
    c: &mut Ctx<'_>,
    api: &str,
    src: i32,
    size: i32,
    algorithm_ok: bool,
    dst: i32,
) -> R<i32> {
    let name = utf8_arg(c, api, src, size)?;
    if !algorithm_ok {
        return Ok(1);
    }
    match signature_fee(&name) {
        Some(fee) => write_u128(c, dst, fee).map(|_| 0),
        None => Ok(2),
    }
}

/// Registers the `cost_*` functions.
pub(crate) fn define(r: &mut Registry) {
    r.add(
        "cost_call",
        |mut c: Ctx<'_>, name: i64, payload: i64, dst: i32| {
            write_u128(&mut c, dst, call_fee(name as u64, payload as u64))
        },
    );
    r.add("cost_create_canister", |mut c: Ctx<'_>, dst: i32| {
        write_u128(&mut c, dst, 500_000_000_000)
    });
    r.add(
        "cost_http_request",
        |mut c: Ctx<'_>, req: i64, max: i64, dst: i32| {
            write_u128(&mut c, dst, http_request_fee(req as u64, max as u64))
        },
    );
    r.add(
        "cost_http_request_v2",
        |mut c: Ctx<'_>, src: i32, size: i32, dst: i32| {
            let bytes = read(&mut c, src as u32 as u64, size as u32 as u64)?;
            match candid::decode_one::<HttpCostParams>(&bytes) {
                Ok(params) => write_u128(&mut c, dst, http_request_v2_fee(&params)),
                Err(e) => trap(format!("ic0.cost_http_request_v2: invalid parameters: {e}")),
            }
        },
    );
    r.add(
        "cost_sign_with_ecdsa",
        |mut c: Ctx<'_>, src: i32, size: i32, curve: i32, dst: i32| {
            signature_cost(
                &mut c,
                "cost_sign_with_ecdsa",
                src,
                size,
                curve == 0 || curve == 1,
                dst,
            )
        },
    );
    r.add(
        "cost_sign_with_schnorr",
        |mut c: Ctx<'_>, src: i32, size: i32, algorithm: i32, dst: i32| {
            let ok = algorithm == 0 || algorithm == 1;
            signature_cost(&mut c, "cost_sign_with_schnorr", src, size, ok, dst)
        },
    );
    r.add(
        "cost_vetkd_derive_key",
        |mut c: Ctx<'_>, src: i32, size: i32, curve: i32, dst: i32| {
            signature_cost(&mut c, "cost_vetkd_derive_key", src, size, curve == 0, dst)
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_follow_the_formulas() {
        assert_eq!(call_fee(3, 7), 270_000);
        assert_eq!(http_request_fee(0, 0), 49_140_000);
        assert_eq!(signature_fee("key_1"), Some(26_153_846_153));
        assert_eq!(signature_fee("nope"), None);
    }
}
