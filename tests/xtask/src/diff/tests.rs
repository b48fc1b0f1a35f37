use super::*;

const DID: &str = "\
type Health = record {
  ok : bool;
  version : text;
};
service : () -> {
  health : () -> (Health) query;
  version : () -> (text) query;
}
";

#[test]
fn equal_texts_have_no_diff() {
    assert_eq!(unified("a", "b", DID, DID), None);
    // A missing final newline is not drift.
    assert_eq!(unified("a", "b", DID, DID.trim_end()), None);
}

#[test]
fn reports_a_changed_line() {
    let new = DID.replace("version : text;", "version : nat;");
    let diff = unified("candid/x.did", "extracted", DID, &new).expect("texts differ");
    assert_eq!(
        diff,
        "\
--- candid/x.did
+++ extracted
@@ -1,6 +1,6 @@
 type Health = record {
   ok : bool;
-  version : text;
+  version : nat;
 };
 service : () -> {
   health : () -> (Health) query;
"
    );
}

#[test]
fn reports_added_and_removed_lines_in_separate_hunks() {
    let old: String = (1..=20).map(|i| format!("line {i}\n")).collect();
    let new = old
        .replace("line 2\n", "")
        .replace("line 18\n", "line 18\nline 18b\n");
    let diff = unified("old", "new", &old, &new).unwrap();
    assert!(
        diff.contains("@@ -1,5 +1,4 @@\n line 1\n-line 2\n line 3\n"),
        "{diff}"
    );
    assert!(
        diff.contains(
            "@@ -16,5 +15,6 @@\n line 16\n line 17\n line 18\n+line 18b\n line 19\n line 20\n"
        ),
        "{diff}"
    );
    assert_eq!(diff.matches("@@ -").count(), 2, "{diff}");
}

#[test]
fn diff_against_empty_text() {
    let diff = unified("old", "new", "", "a\nb\n").unwrap();
    assert_eq!(diff, "--- old\n+++ new\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    let diff = unified("old", "new", "a\n", "").unwrap();
    assert_eq!(diff, "--- old\n+++ new\n@@ -1,1 +0,0 @@\n-a\n");
}
