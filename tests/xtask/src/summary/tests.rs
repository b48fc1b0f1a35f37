use super::*;

#[test]
fn sums_several_result_lines() {
    let output = "\
running 6 tests
test a ... ok
test result: ok. 3 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.01s

     Running unittests src/main.rs (target/debug/deps/x-123)
test result: FAILED. 10 passed; 2 failed; 0 ignored; 0 measured; 1 filtered out; finished in 1.20s
   Doc-tests canister_runtime
test result: ok. 0 passed; 0 failed; 5 ignored; 0 measured; 0 filtered out; finished in 0.00s
";
    let summary = Summary::parse(output);
    assert_eq!(
        summary,
        Summary {
            passed: 13,
            failed: 3,
            ignored: 7,
            pocket_ic_skipped: 0
        }
    );
    assert_eq!(summary.to_string(), "xtask: 13 passed, 3 failed, 7 ignored");
    assert_eq!(summary.pocket_ic_note(), None);
}

#[test]
fn ignores_other_lines_that_mention_passed() {
    let output = "test it_3_passed ... ok\n3 passed; 1 failed\nnote: 4 ignored\n";
    assert_eq!(Summary::parse(output), Summary::default());
}

#[test]
fn reads_coloured_output() {
    let output = "test result: \u{1b}[32mok\u{1b}[0m. 4 passed; 0 failed; 1 ignored; 0 measured\n";
    let summary = Summary::parse(output);
    assert_eq!((summary.passed, summary.failed, summary.ignored), (4, 0, 1));
}

#[test]
fn counts_skipped_pocket_ic_scenarios() {
    let output = "\
PocketIC: skipped (POCKET_IC_BIN not set)
test result: ok. 5 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
PocketIC: skipped (POCKET_IC_BIN not set)
";
    let summary = Summary::parse(output);
    assert_eq!(summary.pocket_ic_skipped, 2);
    assert_eq!(
        summary.pocket_ic_note().as_deref(),
        Some("xtask: 2 PocketIC scenarios skipped (POCKET_IC_BIN not set), not counted as passed")
    );
    assert_eq!(summary.to_string(), "xtask: 3 passed, 0 failed, 0 ignored");
}
