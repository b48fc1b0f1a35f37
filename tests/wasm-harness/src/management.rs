//! The management canister (`aaaaa-aa`) as the harness answers it: `raw_rand` (deterministic
//! per seed), `ecdsa_public_key` and `sign_with_ecdsa` (see [`crate::ecdsa`]), and
//! `http_request`, forwarded to a real server (or an interceptor) with the canister's transform
//! applied as the IC interface specification says. Other methods are rejected.

use candid::{Nat, Principal};
use ic_management_canister_types::{
    EcdsaCurve, EcdsaPublicKeyArgs, EcdsaPublicKeyResult, HttpHeader, HttpMethod, HttpRequestArgs,
    HttpRequestResult, SignWithEcdsaArgs, SignWithEcdsaResult, TransformArgs,
};
use sha2::{Digest, Sha256};

use crate::{
    canister::Entry,
    context::{EntryKind, MessageEnv},
    costs, ecdsa,
    error::{HarnessError, Reject, RejectCode},
    harness::{Harness, query_result},
    outcall::{self, OutcallRequest, OutcallResponse},
};

/// The outcall's result once the replicas' transformed responses are compared: the response at
/// least `n - (n - 1) / 3` of the `n` replicas agree on, byte for byte; with one replica, its
/// answer or its reject as it is.
fn agree(answers: Vec<Result<HttpRequestResult, Reject>>) -> Result<Vec<u8>, Reject> {
    let n = answers.len();
    if n == 1 {
        let answer = answers.into_iter().next().expect("one answer");
        return encode(&answer?);
    }
    let needed = n - (n - 1) / 3;
    let encoded: Vec<Vec<u8>> = answers
        .iter()
        .filter_map(|a| a.as_ref().ok())
        .map(encode)
        .collect::<Result<_, _>>()?;
    for candidate in &encoded {
        if encoded.iter().filter(|other| *other == candidate).count() >= needed {
            return Ok(candidate.clone());
        }
    }
    Err(reject(
        RejectCode::SysTransient,
        format!(
            "No consensus could be reached. Replicas had different responses ({} of {n} answered).",
            encoded.len()
        ),
    ))
}

/// Default (and largest) `max_response_bytes` of an outcall.
pub const MAX_RESPONSE_BYTES: u64 = 2_000_000;

fn reject(code: RejectCode, message: impl Into<String>) -> Reject {
    Reject::new(code, message)
}

fn decode<T: for<'de> candid::Deserialize<'de> + candid::CandidType>(
    method: &str,
    arg: &[u8],
) -> Result<T, Reject> {
    candid::decode_one(arg).map_err(|e| {
        reject(
            RejectCode::CanisterReject,
            format!("{method}: invalid argument: {e}"),
        )
    })
}

fn encode<T: candid::CandidType>(value: &T) -> Result<Vec<u8>, Reject> {
    candid::encode_one(value).map_err(|e| reject(RejectCode::SysFatal, e.to_string()))
}

fn check_key(method: &str, name: &str, curve: EcdsaCurve) -> Result<(), Reject> {
    if curve != EcdsaCurve::Secp256k1 {
        return Err(reject(
            RejectCode::CanisterReject,
            format!("{method}: the harness only has secp256k1 keys"),
        ));
    }
    if costs::signature_fee(name).is_none() {
        return Err(reject(
            RejectCode::CanisterReject,
            format!(
                "{method}: Requested unknown threshold key: ecdsa:Secp256k1:{name}, existing keys: {:?}",
                costs::KEY_NAMES
            ),
        ));
    }
    Ok(())
}

impl Harness {
    /// Answers a call from `caller` to the management canister.
    pub(crate) fn management(
        &mut self,
        caller: Principal,
        method: &str,
        arg: &[u8],
        cycles: u128,
    ) -> Result<Vec<u8>, Reject> {
        match method {
            "raw_rand" => {
                self.rand_calls += 1;
                let mut h = Sha256::new();
                h.update(b"ic-wasm-harness/raw_rand/v1");
                h.update(self.seed.to_be_bytes());
                h.update(self.rand_calls.to_be_bytes());
                encode(&h.finalize().to_vec())
            }
            "ecdsa_public_key" => {
                let args: EcdsaPublicKeyArgs = decode(method, arg)?;
                check_key(method, &args.key_id.name, args.key_id.curve)?;
                let canister = args.canister_id.unwrap_or(caller);
                let (public_key, chain_code) =
                    ecdsa::public_key(&args.key_id.name, &canister, &args.derivation_path);
                encode(&EcdsaPublicKeyResult {
                    public_key,
                    chain_code,
                })
            }
            "sign_with_ecdsa" => {
                let args: SignWithEcdsaArgs = decode(method, arg)?;
                check_key(method, &args.key_id.name, args.key_id.curve)?;
                let fee = costs::signature_fee(&args.key_id.name).unwrap_or_default();
                if cycles < fee {
                    return Err(reject(
                        RejectCode::CanisterReject,
                        format!(
                            "sign_with_ecdsa request sent with {cycles} cycles, but {fee} cycles are required."
                        ),
                    ));
                }
                if args.message_hash.len() != 32 {
                    return Err(reject(
                        RejectCode::CanisterReject,
                        "sign_with_ecdsa: message_hash must be 32 bytes",
                    ));
                }
                let signature = ecdsa::sign(
                    &args.key_id.name,
                    &caller,
                    &args.derivation_path,
                    &args.message_hash,
                )
                .map_err(|e| reject(RejectCode::CanisterError, e))?;
                encode(&SignWithEcdsaResult { signature })
            }
            "http_request" => self.http_outcall(caller, decode(method, arg)?),
            other => Err(reject(
                RejectCode::DestinationInvalid,
                format!("the harness's management canister does not implement `{other}`"),
            )),
        }
    }

    fn http_outcall(
        &mut self,
        caller: Principal,
        args: HttpRequestArgs,
    ) -> Result<Vec<u8>, Reject> {
        let max = args.max_response_bytes.unwrap_or(MAX_RESPONSE_BYTES);
        if max > MAX_RESPONSE_BYTES {
            return Err(reject(
                RejectCode::CanisterReject,
                format!("max_response_bytes {max} exceeds {MAX_RESPONSE_BYTES}"),
            ));
        }
        let method = match args.method {
            HttpMethod::GET => "GET",
            HttpMethod::POST => "POST",
            HttpMethod::HEAD => "HEAD",
            HttpMethod::PUT => "PUT",
            HttpMethod::DELETE => "DELETE",
            HttpMethod::PATCH => "PATCH",
        };
        if !(args.url.starts_with("http://") || args.url.starts_with("https://")) {
            return Err(reject(
                RejectCode::SysFatal,
                format!("invalid outcall URL {}", args.url),
            ));
        }
        // Non-replicated (`is_replicated: Some(false)`): one node sends it, and only then may
        // the method change state on the server; replicated outcalls allow GET, HEAD and POST.
        let replicated = args.is_replicated != Some(false);
        if replicated && !matches!(method, "GET" | "HEAD" | "POST") {
            return Err(reject(
                RejectCode::CanisterReject,
                format!("{method} outcalls must be non-replicated (is_replicated = false)"),
            ));
        }
        let request = OutcallRequest {
            canister: caller,
            url: args.url,
            method: method.to_string(),
            headers: args
                .headers
                .into_iter()
                .map(|h| (h.name, h.value))
                .collect(),
            body: args.body.unwrap_or_default(),
            max_response_bytes: max,
        };
        let replicas = if replicated { self.outcall_replicas } else { 1 };
        let raw: Vec<Result<OutcallResponse, Reject>> = match self.outcall_handler.as_mut() {
            Some(handler) => (0..replicas).map(|_| handler(&request)).collect(),
            None => std::thread::scope(|scope| {
                let sends: Vec<_> = (0..replicas)
                    .map(|_| scope.spawn(|| outcall::forward(&request)))
                    .collect();
                sends
                    .into_iter()
                    .map(|send| {
                        send.join()
                            .unwrap_or_else(|_| Err("the replica's request panicked".into()))
                            .map_err(|e| reject(RejectCode::SysTransient, e))
                    })
                    .collect()
            }),
        };
        let mut answers: Vec<Result<HttpRequestResult, Reject>> = Vec::with_capacity(replicas);
        for response in raw {
            answers.push(
                response.and_then(|r| self.transformed(caller, r, max, args.transform.as_ref())),
            );
        }
        self.outcall_rounds.push(crate::harness::OutcallRound {
            request,
            transformed: answers
                .iter()
                .map(|a| match a {
                    Ok(result) => Ok(OutcallResponse {
                        status: u16::try_from(result.status.0.clone()).unwrap_or(u16::MAX),
                        headers: result
                            .headers
                            .iter()
                            .map(|h| (h.name.clone(), h.value.clone()))
                            .collect(),
                        body: result.body.clone(),
                    }),
                    Err(e) => Err(e.message.clone()),
                })
                .collect(),
        });
        agree(answers)
    }

    /// One replica's response: size-checked, then through the canister's transform.
    fn transformed(
        &mut self,
        caller: Principal,
        response: OutcallResponse,
        max: u64,
        transform: Option<&ic_management_canister_types::TransformContext>,
    ) -> Result<HttpRequestResult, Reject> {
        let size = response.body.len() as u64
            + response
                .headers
                .iter()
                .map(|(n, v)| (n.len() + v.len()) as u64)
                .sum::<u64>();
        if size > max {
            return Err(reject(
                RejectCode::SysFatal,
                format!("Http body exceeds size limit of {max} bytes."),
            ));
        }
        let mut result = HttpRequestResult {
            status: Nat::from(response.status),
            headers: response
                .headers
                .into_iter()
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            body: response.body,
        };
        if let Some(transform) = transform {
            let function = &transform.function.0;
            if function.principal != caller {
                return Err(reject(
                    RejectCode::CanisterReject,
                    "the transform function must be a query of the calling canister",
                ));
            }
            let arg = encode(&TransformArgs {
                response: result,
                context: transform.context.clone(),
            })?;
            let bytes = self
                .transform(caller, &function.method, arg)
                .map_err(|e| match e {
                    HarnessError::Rejected(r) => reject(
                        RejectCode::SysFatal,
                        format!("transform failed: {}", r.message),
                    ),
                    other => reject(RejectCode::SysFatal, format!("transform failed: {other}")),
                })?;
            result = candid::decode_one(&bytes).map_err(|e| {
                reject(
                    RejectCode::SysFatal,
                    format!("transform returned an invalid response: {e}"),
                )
            })?;
        }
        Ok(result)
    }

    /// Runs the transform query `method` of `canister`, called by the management canister.
    fn transform(
        &mut self,
        canister: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> crate::error::Result<Vec<u8>> {
        let mut installed = self
            .canisters
            .remove(&canister)
            .ok_or(HarnessError::CanisterNotFound(canister))?;
        let export = format!("canister_query {method}");
        let result = if installed.module().exports(&export) {
            let mut env = MessageEnv::new(
                EntryKind::Query { replicated: true },
                Principal::management_canister(),
                method,
                arg,
            );
            env.fuel_limit = self.limits.query;
            self.run(&mut installed, &Entry::Export(export), env)
        } else {
            Err(Reject::new(
                RejectCode::CanisterError,
                format!("no query method '{method}'"),
            )
            .into())
        };
        self.canisters.insert(canister, installed);
        query_result(canister, result?)
    }
}
