//! Behaviour of the harness itself that PocketIC does not expose: import checking, instruction
//! counts and limits, deterministic `raw_rand`, rollback of stable memory growth, the message
//! log, and the error for a missing wasm.

mod common;

use candid::Principal;
use common::install_fixture;
use ic_wasm_harness::{
    Harness, HarnessError, Limits, RejectCode, ScenarioExt, canister_wasm, implemented_system_api,
};
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection,
    Instruction, MemorySection, MemoryType, Module, TypeSection,
};

/// A module importing `module.name : () -> ()` with a memory and one exported update.
fn module_importing(module: &str, name: &str) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([], []);
    let mut imports = ImportSection::new();
    imports.import(module, name, EntityType::Function(0));
    let mut functions = FunctionSection::new();
    functions.function(0);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("canister_update go", ExportKind::Func, 1);
    let mut code = CodeSection::new();
    let mut body = Function::new([]);
    body.instruction(&Instruction::Call(0));
    body.instruction(&Instruction::End);
    code.function(&body);
    let mut m = Module::new();
    m.section(&types)
        .section(&imports)
        .section(&functions)
        .section(&memories)
        .section(&exports)
        .section(&code);
    m.finish()
}

#[test]
fn an_unimplemented_import_fails_the_install_with_its_name() {
    let mut h = Harness::new();
    let err = h
        .create_and_install(&module_importing("ic0", "root_key_size"), vec![])
        .unwrap_err();
    assert!(
        matches!(&err, HarnessError::UnsupportedImport { name, .. } if name == "root_key_size"),
        "{err}"
    );
    assert!(err.to_string().contains("ic0.root_key_size"));
    let err = h
        .create_and_install(&module_importing("env", "getrandom"), vec![])
        .unwrap_err();
    assert!(err.to_string().contains("env.getrandom"), "{err}");
    // An implemented one installs.
    let c = h
        .create_and_install(&module_importing("ic0", "accept_message"), vec![])
        .unwrap();
    // ... and misusing it traps with its name.
    let err = h
        .update_call(c, Principal::anonymous(), "go", vec![])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("ic0.accept_message cannot be executed"),
        "{err}"
    );
}

#[test]
fn the_issue_list_of_system_api_is_implemented() {
    let listed = [
        "msg_arg_data_size",
        "msg_arg_data_copy",
        "msg_reply",
        "msg_reply_data_append",
        "msg_reject",
        "msg_reject_code",
        "msg_reject_msg_size",
        "msg_reject_msg_copy",
        "msg_caller_size",
        "msg_caller_copy",
        "msg_method_name_size",
        "msg_method_name_copy",
        "canister_self_size",
        "canister_self_copy",
        "time",
        "debug_print",
        "trap",
        "stable64_size",
        "stable64_grow",
        "stable64_read",
        "stable64_write",
        "stable_size",
        "stable_grow",
        "stable_read",
        "stable_write",
        "global_timer_set",
        "certified_data_set",
        "data_certificate_present",
        "data_certificate_size",
        "data_certificate_copy",
        "is_controller",
        "in_replicated_execution",
        "performance_counter",
        "canister_cycle_balance128",
        "canister_liquid_cycle_balance128",
        "msg_cycles_available128",
        "msg_cycles_refunded128",
        "msg_cycles_accept128",
        "call_new",
        "call_data_append",
        "call_cycles_add128",
        "call_on_cleanup",
        "call_perform",
        "call_with_best_effort_response",
        "accept_message",
        "cost_call",
        "cost_sign_with_ecdsa",
        "cost_http_request",
        "cost_http_request_v2",
    ];
    let implemented = implemented_system_api();
    for name in listed {
        assert!(implemented.contains(&name), "ic0.{name} missing");
    }
}

#[test]
fn instructions_are_counted_per_message_and_limited() {
    let mut h = Harness::new();
    let c = install_fixture(&mut h);
    h.update::<u64>(c, "burn", (1_000u64,)).unwrap();
    let small = h.last_call_instructions();
    h.update::<u64>(c, "burn", (1_000_000u64,)).unwrap();
    let large = h.last_call_instructions();
    eprintln!("burn(1e3): {small} instructions, burn(1e6): {large} instructions");
    assert!(large > small * 100, "{small} vs {large}");
    // The call ran inspect_message, then the method.
    let last = h.executions().last().unwrap();
    assert_eq!(last.entry, "canister_update burn");
    assert!(last.instructions <= large && last.instructions > small * 100);

    h.set_limits(Limits {
        update: 2_000_000,
        ..Limits::default()
    });
    let err = h.update::<u64>(c, "burn", (10_000_000u64,)).unwrap_err();
    match err {
        HarnessError::Rejected(r) => {
            assert_eq!(r.code, RejectCode::CanisterError);
            assert!(r.message.contains("instructions"), "{}", r.message);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn raw_rand_is_deterministic_per_seed() {
    let mut draws = Vec::new();
    for seed in [7, 7, 8] {
        let mut h = Harness::with_seed(seed);
        let c = install_fixture(&mut h);
        let first: Result<Vec<u8>, String> = h.update(c, "random", ()).unwrap();
        let second: Result<Vec<u8>, String> = h.update(c, "random", ()).unwrap();
        let (first, second) = (first.unwrap(), second.unwrap());
        assert_eq!(first.len(), 32);
        assert_ne!(first, second, "each call draws new bytes");
        draws.push(first);
    }
    assert_eq!(draws[0], draws[1], "same seed, same bytes");
    assert_ne!(draws[0], draws[2], "another seed, other bytes");
}

#[test]
fn a_trap_rolls_back_stable_growth() {
    let mut h = Harness::new();
    let c = install_fixture(&mut h);
    let pages = h.stable_pages(c).unwrap();
    h.update::<u64>(c, "increment_then_trap", ()).unwrap_err();
    assert_eq!(h.stable_pages(c).unwrap(), pages);
    let trapped = h.executions().last().unwrap();
    assert!(trapped.trapped);
}

#[test]
fn upgrade_trap_keeps_the_old_canister() {
    let mut h = Harness::new();
    let c = install_fixture(&mut h);
    h.update::<u64>(c, "increment", ()).unwrap();
    // The fixture's post_upgrade decodes `opt FixtureInit`: bytes that are not candid trap.
    let err = h
        .upgrade(c, &common::fixture_wasm(), b"not candid".to_vec())
        .unwrap_err();
    assert!(matches!(err, HarnessError::InstallFailed { .. }), "{err}");
    assert_eq!(h.query::<u64>(c, "get", ()).unwrap(), 1);
    assert_eq!(
        h.query::<u64>(c, "pre_upgrades", ()).unwrap(),
        0,
        "pre_upgrade undone"
    );
    assert_eq!(
        h.query::<u64>(c, "heap_counter", ()).unwrap(),
        1,
        "old heap kept"
    );
}

#[test]
fn unknown_canisters_and_methods_are_invalid_destinations() {
    let mut h = Harness::new();
    let c = install_fixture(&mut h);
    let anonymous = Principal::anonymous();
    for (canister, method) in [
        (c, "no_such_method"),
        (Principal::from_slice(&[9; 10]), "get"),
    ] {
        for result in [
            h.update_call(canister, anonymous, method, vec![]),
            h.query_call(canister, anonymous, method, vec![]),
        ] {
            match result {
                Err(HarnessError::Rejected(r)) => {
                    assert_eq!(r.code, RejectCode::DestinationInvalid, "{}", r.message)
                }
                other => panic!("expected a reject, got {other:?}"),
            }
        }
    }
}

#[test]
fn a_missing_wasm_names_the_build_command() {
    let err = canister_wasm("no_such_canister").unwrap_err().to_string();
    assert!(err.contains("cargo xtask build-canisters"), "{err}");
    assert!(err.contains("no_such_canister.wasm"), "{err}");
}

#[test]
fn a_non_replicated_outcall_is_sent_once_and_only_it_may_put() {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use common::FetchOutput;
    use ic_wasm_harness::OutcallResponse;

    let mut h = Harness::new();
    let c = install_fixture(&mut h);
    h.set_outcall_replicas(4);
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    h.set_outcall_handler(Some(Box::new(move |request| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(OutcallResponse {
            status: 200,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: request.method.clone().into_bytes(),
        })
    })));
    let mut fetch = |method: &str, replicated: bool| -> Result<FetchOutput, String> {
        h.update(
            c,
            "fetch_with",
            (
                "https://worker.example/x".to_string(),
                method.to_string(),
                replicated,
            ),
        )
        .unwrap()
    };

    assert_eq!(
        fetch("POST", true).unwrap().body,
        "POST|transformed:fixture"
    );
    assert_eq!(sent.swap(0, Ordering::SeqCst), 4, "every replica sends it");

    assert_eq!(
        fetch("POST", false).unwrap().body,
        "POST|transformed:fixture"
    );
    assert_eq!(sent.swap(0, Ordering::SeqCst), 1, "one node sends it");

    assert_eq!(fetch("PUT", false).unwrap().body, "PUT|transformed:fixture");
    assert_eq!(sent.swap(0, Ordering::SeqCst), 1);

    let refused = fetch("PUT", true).unwrap_err();
    assert!(refused.contains("non-replicated"), "{refused}");
    assert_eq!(
        sent.load(Ordering::SeqCst),
        0,
        "refused before anything is sent"
    );
}
