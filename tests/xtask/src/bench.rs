//! `cargo xtask bench`: every benchmark target of the workspace (`[[bench]]`, run with
//! `cargo bench`, so the release-based `bench` profile), one after another with its output shown,
//! then one table of the figures they printed.
//!
//! A benchmark reports a figure by printing a line
//! `BENCH <figure>\t<value>\t<unit>[\tanchor=<figure>][\t<note>]` on stdout (the prose around it
//! is for people). `anchor=` names another figure of the same run that this one is measured
//! against (nginx serving the same bytes, the in-process path, a libvips run): the table shows
//! the anchor's value and the ratio `value / anchor`. A benchmark that fails is listed as failed
//! and makes the command fail at the end, after the others have run; one that prints no `BENCH`
//! line is listed as such, so nothing is skipped silently.

mod report;

use std::path::Path;

use crate::{
    canisters::Workspace,
    error::{Error, Result},
    proc,
};

pub use report::{Outcome, Report};

/// One benchmark target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The package (`-p`).
    pub package: String,
    /// The bench target (`--bench`).
    pub bench: String,
}

impl Target {
    /// `package/bench`, as the table and the filters name it.
    pub fn id(&self) -> String {
        format!("{}/{}", self.package, self.bench)
    }

    /// Whether `filter` selects this target: its package, its bench name or `package/bench`.
    pub fn matches(&self, filter: &str) -> bool {
        filter == self.package || filter == self.bench || filter == self.id()
    }
}

/// The workspace's bench targets, in package order, narrowed to those `filters` select (all when
/// there is no filter).
pub fn targets(workspace: &Workspace, filters: &[String]) -> Result<Vec<Target>> {
    let all: Vec<Target> = workspace
        .packages
        .iter()
        .flat_map(|p| {
            p.benches.iter().map(|b| Target {
                package: p.name.clone(),
                bench: b.clone(),
            })
        })
        .collect();
    if let Some(unknown) = filters.iter().find(|f| !all.iter().any(|t| t.matches(f))) {
        return Err(Error::Unexpected(format!(
            "no benchmark matches `{unknown}` (known: {})",
            all.iter().map(Target::id).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(all
        .into_iter()
        .filter(|t| filters.is_empty() || filters.iter().any(|f| t.matches(f)))
        .collect())
}

/// Runs the selected benchmarks and prints the table; fails when any of them failed.
pub fn run(root: &Path, filters: &[String]) -> Result<()> {
    let workspace = Workspace::load(root)?;
    let targets = targets(&workspace, filters)?;
    let mut report = Report::default();
    for target in &targets {
        println!("\n== bench {} ==", target.id());
        let (status, output) = proc::tee(proc::cargo().current_dir(root).args([
            "bench",
            "-p",
            &target.package,
            "--bench",
            &target.bench,
        ]))?;
        let outcome = if status.success() {
            Outcome::Ran
        } else {
            Outcome::Failed(status.to_string())
        };
        report.add(target.id(), outcome, &output);
    }
    println!("\n== figures ==\n{}", report.table());
    let failed = report.failed();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::Unexpected(format!(
            "{} benchmark(s) failed: {}",
            failed.len(),
            failed.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests;
