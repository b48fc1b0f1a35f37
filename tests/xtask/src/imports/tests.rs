use super::*;

fn wasm(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("test WAT parses")
}

const IC0_ONLY: &str = r#"
(module
  (import "ic0" "msg_reply" (func))
  (import "ic0" "msg_reply_data_append" (func (param i32 i32)))
  (memory 1)
  (func (export "canister_query health") call 0))
"#;

#[test]
fn accepts_a_module_importing_only_ic0() {
    let bytes = wasm(IC0_ONLY);
    assert_eq!(imports(&bytes).unwrap().len(), 2);
    assert_eq!(foreign_imports(&bytes).unwrap(), vec![]);
}

#[test]
fn accepts_a_module_without_imports() {
    assert_eq!(foreign_imports(&wasm("(module)")).unwrap(), vec![]);
}

#[test]
fn rejects_wasi_fd_write() {
    let bytes = wasm(
        r#"(module
             (import "ic0" "msg_reply" (func))
             (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))))"#,
    );
    assert_eq!(
        foreign_imports(&bytes).unwrap(),
        vec![Import {
            module: "wasi_snapshot_preview1".into(),
            name: "fd_write".into()
        }]
    );
}

#[test]
fn rejects_wbindgen_placeholder() {
    let bytes = wasm(
        r#"(module
             (import "__wbindgen_placeholder__" "x" (func))
             (import "ic0" "trap" (func (param i32 i32))))"#,
    );
    let foreign = foreign_imports(&bytes).unwrap();
    assert_eq!(foreign.len(), 1);
    assert_eq!(foreign[0].to_string(), "__wbindgen_placeholder__.x");
}

#[test]
fn check_file_names_module_and_function() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.wasm");
    std::fs::write(
        &bad,
        wasm(r#"(module (import "wasi_snapshot_preview1" "fd_write" (func)) (import "env" "memcpy" (func)))"#),
    )
    .unwrap();
    let err = check_file(&bad).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::ForeignImports { ref imports, .. } if imports.len() == 2));
    assert!(
        message.contains("wasi_snapshot_preview1.fd_write"),
        "{message}"
    );
    assert!(message.contains("env.memcpy"), "{message}");

    let good = dir.path().join("good.wasm");
    std::fs::write(&good, wasm(IC0_ONLY)).unwrap();
    check_file(&good).unwrap();
}

#[test]
fn rejects_garbage() {
    assert!(matches!(
        foreign_imports(b"not a wasm module"),
        Err(Error::Wasm { .. })
    ));
}
