//! A small unified-style line diff, used to show Candid drift (checked-in `.did` against what
//! candid-extractor reads from the wasm). Longest-common-subsequence over lines, hunks with
//! [`CONTEXT`] lines of context; good for files of a few thousand lines.

use std::fmt::Write as _;

/// Lines of unchanged context around each change.
pub const CONTEXT: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Same,
    Removed,
    Added,
}

/// One line of the edit script, with the 0-based positions in the old and new text it sits at.
#[derive(Clone, Copy, Debug)]
struct Line<'a> {
    tag: Tag,
    text: &'a str,
    old: usize,
    new: usize,
}

/// Compares two texts line by line (a missing final newline is not a difference).
///
/// Returns `None` when they are equal, otherwise a unified-style diff: `--- old_label`,
/// `+++ new_label`, then `@@ -l,n +l,n @@` hunks of ` `, `-` and `+` lines.
pub fn unified(old_label: &str, new_label: &str, old: &str, new: &str) -> Option<String> {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    if old == new {
        return None;
    }
    let script = edit_script(&old, &new);
    let mut out = format!("--- {old_label}\n+++ {new_label}\n");
    for (start, end) in hunks(&script) {
        let lines = &script[start..end];
        let old_count = lines.iter().filter(|l| l.tag != Tag::Added).count();
        let new_count = lines.iter().filter(|l| l.tag != Tag::Removed).count();
        let old_start = lines[0].old + usize::from(old_count > 0);
        let new_start = lines[0].new + usize::from(new_count > 0);
        let _ = writeln!(
            out,
            "@@ -{old_start},{old_count} +{new_start},{new_count} @@"
        );
        for line in lines {
            let sign = match line.tag {
                Tag::Same => ' ',
                Tag::Removed => '-',
                Tag::Added => '+',
            };
            let _ = writeln!(out, "{sign}{}", line.text);
        }
    }
    Some(out)
}

/// The line-level edit script turning `old` into `new` (LCS; removals before additions).
fn edit_script<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<Line<'a>> {
    let (n, m) = (old.len(), new.len());
    // lcs[i][j]: length of the longest common subsequence of old[i..] and new[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut script = Vec::with_capacity(n + m);
    let (mut i, mut j) = (0, 0);
    let line = |tag, text, i, j| Line {
        tag,
        text,
        old: i,
        new: j,
    };
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            script.push(line(Tag::Same, old[i], i, j));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            script.push(line(Tag::Removed, old[i], i, j));
            i += 1;
        } else {
            script.push(line(Tag::Added, new[j], i, j));
            j += 1;
        }
    }
    script
}

/// Ranges of `script` to print: each change with [`CONTEXT`] lines around it, overlapping
/// ranges merged.
fn hunks(script: &[Line<'_>]) -> Vec<(usize, usize)> {
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for (k, line) in script.iter().enumerate() {
        if line.tag == Tag::Same {
            continue;
        }
        let start = k.saturating_sub(CONTEXT);
        let end = (k + 1 + CONTEXT).min(script.len());
        match hunks.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => hunks.push((start, end)),
        }
    }
    hunks
}

#[cfg(test)]
mod tests;
