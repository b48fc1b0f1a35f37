//! The figures of a `cargo xtask bench` run: parsed from the `BENCH` lines each benchmark
//! prints, shown as one table with each figure's anchor and ratio.

use std::fmt::Write as _;

/// The line prefix a benchmark prints a figure with.
pub const PREFIX: &str = "BENCH ";

/// One printed figure.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// The benchmark that printed it (`package/bench`).
    pub bench: String,
    /// Its name, unique within the run (`resolver_sqlite_hits`).
    pub name: String,
    /// The value.
    pub value: f64,
    /// Its unit (`req/s`, `ms`, `MiB`).
    pub unit: String,
    /// The figure of the same run it is measured against, if any.
    pub anchor: Option<String>,
    /// Free text (the load it was measured under).
    pub note: String,
}

impl Figure {
    /// Parses `BENCH <name>\t<value>\t<unit>[\tanchor=<figure>][\t<note>...]`; `None` for any
    /// other line. A `BENCH` line whose value is not a number is kept with the value NaN, so a
    /// broken benchmark shows in the table rather than vanishing.
    pub fn parse(bench: &str, line: &str) -> Option<Self> {
        let rest = line.trim_end().strip_prefix(PREFIX)?;
        let mut fields = rest.split('\t');
        let name = fields.next()?.trim().to_string();
        if name.is_empty() {
            return None;
        }
        let value = fields
            .next()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        let unit = fields.next().unwrap_or("").trim().to_string();
        let mut anchor = None;
        let mut note = Vec::new();
        for field in fields {
            match field.trim().strip_prefix("anchor=") {
                Some(a) => anchor = Some(a.to_string()),
                None => note.push(field.trim()),
            }
        }
        Some(Self {
            bench: bench.to_string(),
            name,
            value,
            unit,
            anchor,
            note: note.join(" "),
        })
    }
}

/// How a benchmark ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It exited successfully.
    Ran,
    /// It failed (its exit status).
    Failed(String),
}

/// The whole run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    figures: Vec<Figure>,
    /// Benchmarks, in run order, with how they ended and how many figures they printed.
    benches: Vec<(String, Outcome, usize)>,
}

impl Report {
    /// Records `bench`'s outcome and the figures in its `output`.
    pub fn add(&mut self, bench: String, outcome: Outcome, output: &str) {
        let before = self.figures.len();
        self.figures
            .extend(output.lines().filter_map(|l| Figure::parse(&bench, l)));
        let printed = self.figures.len() - before;
        self.benches.push((bench, outcome, printed));
    }

    /// The benchmarks that failed.
    pub fn failed(&self) -> Vec<String> {
        self.benches
            .iter()
            .filter(|(_, o, _)| matches!(o, Outcome::Failed(_)))
            .map(|(b, _, _)| b.clone())
            .collect()
    }

    /// The table: one row per figure (figure, value and unit, anchor, ratio, benchmark, note),
    /// then one line per benchmark that failed or printed no figure.
    pub fn table(&self) -> String {
        let header = ["figure", "value", "anchor", "ratio", "bench", "note"].map(String::from);
        let mut rows = vec![header];
        for f in &self.figures {
            let anchor =
                f.anchor
                    .as_ref()
                    .map(|a| match self.figures.iter().find(|g| &g.name == a) {
                        Some(g) => (format!("{a} {}", amount(g.value, &g.unit)), Some(g.value)),
                        None => (format!("{a} (not measured)"), None),
                    });
            let (anchor_text, ratio) = match anchor {
                Some((text, Some(base))) if base != 0.0 => {
                    (text, format!("{:.2}x", f.value / base))
                }
                Some((text, _)) => (text, "-".into()),
                None => ("-".into(), "-".into()),
            };
            rows.push([
                f.name.clone(),
                amount(f.value, &f.unit),
                anchor_text,
                ratio,
                f.bench.clone(),
                f.note.clone(),
            ]);
        }
        let widths: Vec<usize> = (0..6)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in &rows {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            let _ = writeln!(out, "{}", line.join("  ").trim_end());
        }
        for (bench, outcome, printed) in &self.benches {
            match outcome {
                Outcome::Failed(status) => {
                    let _ = writeln!(out, "{bench}: FAILED ({status})");
                }
                Outcome::Ran if *printed == 0 => {
                    let _ = writeln!(out, "{bench}: ran, printed no BENCH figure");
                }
                Outcome::Ran => {}
            }
        }
        out
    }
}

/// `value unit`, with as many decimals as the size of the value needs.
fn amount(value: f64, unit: &str) -> String {
    let number = if value.is_nan() {
        "NaN".to_string()
    } else if value.abs() >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else if value.abs() >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.4}")
    };
    if unit.is_empty() {
        number
    } else {
        format!("{number} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_figures_with_anchor_and_note_and_ignores_prose() {
        let f = Figure::parse(
            "m/b",
            "BENCH resolver_hits\t41000.5\treq/s\tanchor=nginx_static\twrk -c32",
        )
        .unwrap();
        assert_eq!(f.name, "resolver_hits");
        assert_eq!(f.value, 41000.5);
        assert_eq!(f.unit, "req/s");
        assert_eq!(f.anchor.as_deref(), Some("nginx_static"));
        assert_eq!(f.note, "wrk -c32");
        assert_eq!(f.bench, "m/b");
        assert!(Figure::parse("m/b", "resolver hits: 41000 req/s").is_none());
        assert!(Figure::parse("m/b", "BENCH \t1\tx").is_none());
        assert!(
            Figure::parse("m/b", "BENCH broken\tlots\tx")
                .unwrap()
                .value
                .is_nan()
        );
    }

    #[test]
    fn the_table_shows_each_anchor_and_ratio_and_every_silent_or_failed_bench() {
        let mut report = Report::default();
        report.add(
            "resolver/cached".into(),
            Outcome::Ran,
            "warming up\nBENCH nginx_static\t40000\treq/s\nBENCH sqlite_hits\t30000\treq/s\tanchor=nginx_static\nBENCH orphan\t2\tms\tanchor=missing\n",
        );
        report.add("rooms/load".into(), Outcome::Ran, "no figures here\n");
        report.add(
            "agent/chat".into(),
            Outcome::Failed("exit status: 101".into()),
            "BENCH streams\t10000\tclients\n",
        );
        let table = report.table();
        let line = |name: &str| {
            table
                .lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("{name} in\n{table}"))
                .to_string()
        };
        let sqlite = line("sqlite_hits");
        assert!(sqlite.contains("30000 req/s"), "{sqlite}");
        assert!(sqlite.contains("nginx_static 40000 req/s"), "{sqlite}");
        assert!(sqlite.contains("0.75x"), "{sqlite}");
        assert!(line("orphan").contains("missing (not measured)"));
        assert!(line("nginx_static").contains(" - "));
        assert!(line("rooms/load").contains("printed no BENCH figure"));
        assert!(line("agent/chat").contains("FAILED (exit status: 101)"));
        assert!(line("streams").contains("10000 clients"));
        assert_eq!(report.failed(), ["agent/chat"]);
        assert_eq!(report.figures.len(), 4);
    }
}
