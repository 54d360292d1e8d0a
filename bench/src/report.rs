//! The printed tables and the JSON report (`.local/bench.json`).

use std::path::Path;

use serde_json::{Value, json};

use crate::MIB;
use crate::budgets::Budgets;
use crate::cold::{Cold, ExportSpawn};
use crate::measure::{Measured, ms, pct};
use crate::scenarios::Group;

/// Everything one run measured.
pub struct Run {
    pub mode: &'static str,
    pub rows: Vec<(Group, Measured)>,
    /// The CSV export of 10,000 in a fresh release process, plain and gzip.
    pub exports: Vec<Result<ExportSpawn, String>>,
    pub cold: Vec<Cold>,
    pub rng_ms: Option<f64>,
    pub sizes: Vec<(String, Option<u64>)>,
}

impl Run {
    fn group(&self, group: Group) -> impl Iterator<Item = &Measured> {
        self.rows.iter().filter(move |(g, _)| *g == group).map(|(_, m)| m)
    }

    pub fn print(&self, budgets: &Budgets) {
        println!();
        println!(
            "Warm latency, in-process handlers against DynamoDB Local ({}; ms; overhead = total − DynamoDB time)",
            self.mode
        );
        print_table(self.group(Group::Warm));
        println!();
        println!("Scaling");
        print_table(self.group(Group::Scaling));
        let by_name = |name: &str| self.rows.iter().map(|(_, m)| m).find(|m| m.name == name);
        if let (Some(a100), Some(a1000)) = (by_name("assign 100"), by_name("assign 1000")) {
            let p50 = |d: &[std::time::Duration]| pct(d, 50.0).as_secs_f64();
            println!(
                "assign 1000 / assign 100 (p50): total {:.1}×, handler overhead {:.1}×, round trips {}/{}",
                p50(&a1000.total) / p50(&a100.total),
                p50(&a1000.overhead) / p50(&a100.overhead),
                a1000.round_trips.max,
                a100.round_trips.max
            );
        }
        self.print_exports();
        self.print_cold();
        println!();
        println!("Size of the stripped arm64 binary (target/lambda/<fn>/bootstrap)");
        for (f, size) in &self.sizes {
            match size {
                Some(s) => println!("{f:<10} {s:>10} bytes  {:>6.2} MiB", *s as f64 / MIB),
                None => println!("{f:<10} not built: run make build-arm64"),
            }
        }
        println!();
        println!("Budgets");
        for line in &budgets.lines {
            println!("{} {}", if line.pass { "PASS" } else { "FAIL" }, line.text);
        }
    }

    fn print_exports(&self) {
        if self.exports.is_empty() {
            return;
        }
        println!();
        println!(
            "CSV export in a fresh release `list` process (one spawn; payload = the invocation's answer)"
        );
        for e in &self.exports {
            match e {
                Ok(e) => println!(
                    "{:<6} {:>6} rows  {:>8.1} ms  peak RSS {:>6.2} MiB  CSV {:>9} bytes ({:.0} a row)  payload {:>9} bytes  → {} rows fit an answer",
                    if e.gzip { "gzip" } else { "plain" },
                    e.rows,
                    ms(e.elapsed),
                    e.peak_rss as f64 / MIB,
                    e.csv_bytes,
                    e.csv_bytes as f64 / e.rows.max(1) as f64,
                    e.payload_bytes,
                    e.rows_that_fit(),
                ),
                Err(error) => println!("export: {error}"),
            }
        }
    }

    fn print_cold(&self) {
        if !self.cold.is_empty() {
            println!();
            println!(
                "Cold start: spawn → first response via the Runtime API stub, one DynamoDB round trip"
            );
            println!(
                "{:<10} {:>6} {:>10} {:>10} {:>10} {:>13}  request",
                "function", "spawns", "median ms", "min ms", "max ms", "peak RSS MiB"
            );
        }
        for c in &self.cold {
            match &c.result {
                Ok((times, rss)) => println!(
                    "{:<10} {:>6} {:>10.2} {:>10.2} {:>10.2} {:>13.2}  {}",
                    c.function,
                    times.len(),
                    ms(pct(times, 50.0)),
                    ms(times[0]),
                    ms(times[times.len() - 1]),
                    *rss as f64 / MIB,
                    c.request
                ),
                Err(e) => println!("{:<10} error: {e}", c.function),
            }
        }
        if let Some(rng) = self.rng_ms {
            println!();
            println!(
                "aws-lc's first random bytes in a fresh process (paid in a function's first TLS handshake, \
                 not in the cold starts above, which use plain HTTP): median {rng:.2} ms"
            );
        }
    }

    pub fn write_json(&self, budgets: &Budgets, path: &Path) {
        let cold: Vec<Value> = self.cold.iter().map(|c| match &c.result {
            Ok((times, rss)) => json!({"function": c.function, "request": c.request, "spawns": times.len(),
                "median_ms": ms(pct(times, 50.0)), "min_ms": ms(times[0]), "max_ms": ms(times[times.len() - 1]),
                "peak_rss_bytes": rss, "json_log_with_request_id": c.logged}),
            Err(e) => json!({"function": c.function, "error": e}),
        }).collect();
        let report = json!({
            "mode": self.mode,
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "warm": self.group(Group::Warm).map(Measured::json).collect::<Vec<_>>(),
            "scaling": self.group(Group::Scaling).map(Measured::json).collect::<Vec<_>>(),
            "cold": cold,
            "csv_export": self.exports.iter().map(|e| match e {
                Ok(e) => json!({"gzip": e.gzip, "rows": e.rows, "ms": ms(e.elapsed), "peak_rss_bytes": e.peak_rss,
                    "csv_bytes": e.csv_bytes, "payload_bytes": e.payload_bytes, "rows_that_fit": e.rows_that_fit()}),
                Err(error) => json!({"error": error}),
            }).collect::<Vec<_>>(),
            "aws_lc_first_rng_ms": self.rng_ms,
            "arm64_bytes": self.sizes.iter().map(|(f, s)| (f.clone(), json!(s))).collect::<serde_json::Map<_, _>>(),
            "budgets": budgets.lines.iter().map(|l| json!({"pass": l.pass, "deterministic": l.hard, "text": l.text})).collect::<Vec<_>>(),
        });
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(path, serde_json::to_string_pretty(&report).unwrap())
            .expect("write the JSON report");
        println!();
        println!("JSON: {}", path.display());
    }
}

fn print_table<'a>(rows: impl Iterator<Item = &'a Measured>) {
    println!(
        "{:<44} {:>5} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}  round trips (minimum)",
        "operation", "n", "p50", "p99", "ddb p50", "ddb p99", "ovh p50", "ovh p99",
    );
    for m in rows {
        let mut trips = if m.round_trips.min == m.round_trips.max {
            m.round_trips.min.to_string()
        } else {
            format!("{}..{}", m.round_trips.min, m.round_trips.max)
        };
        if m.minimum.paged {
            trips.push_str(&format!(" + {} Query pages", m.pages));
        }
        println!(
            "{:<44} {:>5} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.3} {:>9.3}  {} ({})",
            m.name,
            m.samples,
            m.p(&m.total, 50.0),
            m.p(&m.total, 99.0),
            m.p(&m.dynamo, 50.0),
            m.p(&m.dynamo, 99.0),
            m.p(&m.overhead, 50.0),
            m.p(&m.overhead, 99.0),
            trips,
            m.minimum.round_trips
        );
    }
}
