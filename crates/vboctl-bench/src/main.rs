//! `vboctl-bench`: times vboctl at scale against its emulator and prints one Markdown table.
//!
//! Build both programs with the release profile, then run the benchmark:
//!
//! ```text
//! cargo build --release -p vboctl -p vboctl-bench
//! target/release/vboctl-bench            # about two minutes
//! target/release/vboctl-bench --quick    # a tenth of each size, to check the benchmark itself
//! ```
//!
//! Every row runs the real `vboctl` binary as a child process against `vboctl emulator` on
//! loopback (HTTPS, REST API v8), and reports its wall-clock time and peak memory. The same
//! creates are also made by `bench/baseline.sh`, the shell script (bash, curl, jq) a user
//! would otherwise write, against the same emulator settings, and the ratio is printed. Growth
//! is measured by planning at three sizes. docs/benchmarks.md records a run and what it shows.

mod emulator;
mod fixtures;
mod measure;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use crate::measure::Measurement;

/// Time vboctl at scale against its emulator, beside the shell script a user would otherwise
/// write, and print one Markdown table.
#[derive(Debug, Parser)]
#[command(name = "vboctl-bench")]
struct Args {
    /// The vboctl binary to time [default: the vboctl next to this program].
    #[arg(long, value_name = "FILE")]
    vboctl: Option<PathBuf>,

    /// The shell script to compare with [default: bench/baseline.sh of this repository].
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// A tenth of every size: to check that the benchmark runs, not to measure.
    #[arg(long)]
    quick: bool,

    /// Leave out the run with slow creates (2 to 5 s each), which takes about a minute.
    #[arg(long)]
    no_slow_creates: bool,

    /// Run each validate, plan and 20 ms apply row N times and report the run of median time
    /// (with the largest peak memory of all N): on a shared or virtual machine one run can be
    /// a quarter slower than the next. The shell script and the slow creates run once.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=15))]
    runs: u32,

    /// Write the generated manifests, the emulator's certificate and each command's standard
    /// error to DIR and keep them, to profile one command by hand afterwards [default: a
    /// temporary folder, removed at the end].
    #[arg(long, value_name = "DIR")]
    work: Option<PathBuf>,
}

/// The latency of every request in the apply runs, in milliseconds.
const LATENCY_MS: u64 = 20;

fn main() -> ExitCode {
    let mut raw = std::env::args_os();
    let _program = raw.next();
    if raw.next().is_some_and(|first| first == "__measure") {
        let Some(stderr) = raw.next() else {
            eprintln!("usage: vboctl-bench __measure STDERR COMMAND...");
            return ExitCode::FAILURE;
        };
        return match measure::run_as_measurer(PathBuf::from(stderr), raw.collect()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        };
    }
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// One line of the table.
struct Row {
    run: String,
    organizations: usize,
    measured: Measurement,
    /// What the row is compared with, and whether it holds.
    verdict: String,
}

/// The sizes of one benchmark run.
struct Sizes {
    validate: [usize; 2],
    plan: [usize; 3],
    creates: usize,
    slow_creates: usize,
}

fn run(args: Args) -> Result<(), String> {
    let vboctl = match args.vboctl {
        Some(path) => path,
        None => std::env::current_exe()
            .map_err(|e| format!("cannot find this program: {e}"))?
            .with_file_name(format!("vboctl{}", std::env::consts::EXE_SUFFIX)),
    };
    if !vboctl.is_file() {
        return Err(format!(
            "{} does not exist: build it with `cargo build --release -p vboctl -p vboctl-bench`, or pass --vboctl",
            vboctl.display()
        ));
    }
    let baseline = args
        .baseline
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/baseline.sh"));
    let divisor = if args.quick { 10 } else { 1 };
    let sizes = Sizes {
        validate: [10_000 / divisor, 50_000 / divisor],
        plan: [1_000 / divisor, 10_000 / divisor, 50_000 / divisor],
        creates: 1_000 / divisor,
        slow_creates: 64 / divisor.min(4),
    };
    let temporary;
    let work = match args.work {
        Some(folder) => {
            std::fs::create_dir_all(&folder)
                .map_err(|e| format!("cannot make {}: {e}", folder.display()))?;
            folder
        }
        None => {
            temporary =
                tempfile::tempdir().map_err(|e| format!("cannot make a work folder: {e}"))?;
            temporary.path().to_path_buf()
        }
    };
    let bench = Bench { vboctl, work };
    let mut rows = Vec::new();
    let mut notes = Vec::new();

    for (count, target) in sizes.validate.into_iter().zip([0.3, 1.5]) {
        let folder = bench.mixed(count)?;
        let measured = median_of(args.runs, || {
            bench.vboctl(None, &["validate".into(), folder.clone().into()], 0)
        })?;
        let verdict = seconds_target(&measured, target, args.quick);
        rows.push(Row {
            run: format!("validate, {} files", count / 10),
            organizations: count,
            measured,
            verdict,
        });
    }

    let mut growth = Vec::new();
    for (index, count) in sizes.plan.into_iter().enumerate() {
        let folder = bench.mixed(count)?;
        let server = emulator::start(&bench.vboctl, &bench.work, count, &[])?;
        let measured = median_of(args.runs, || {
            bench.vboctl(Some(&server), &["plan".into(), folder.clone().into()], 0)
        })?;
        drop(server);
        let verdict = match index {
            1 => both_targets(&measured, 0.5, 60, args.quick),
            2 => both_targets(&measured, 2.5, 200, args.quick),
            _ => "growth only".to_owned(),
        };
        growth.push((count, measured.clone()));
        rows.push(Row {
            run: format!("plan, {count} other organizations on the server"),
            organizations: count,
            measured,
            verdict,
        });
    }
    notes.push(growth_line(&growth));

    let creates = bench.on_premises(sizes.creates)?;
    let mut applies = Vec::new();
    for (parallelism, allowed) in [(10usize, 1.1), (32, 1.2)] {
        // Each run creates on an emulator of its own.
        let measured = median_of(args.runs, || {
            let server = emulator::start(
                &bench.vboctl,
                &bench.work,
                0,
                &["--latency", &LATENCY_MS.to_string()],
            )?;
            bench.vboctl(Some(&server), &apply_args(&creates, parallelism), 0)
        })?;
        let bound = latency_bound(sizes.creates, LATENCY_MS as f64 / 1000.0, parallelism);
        let verdict = bound_verdict(&measured, bound, allowed);
        applies.push((parallelism, measured.seconds));
        rows.push(Row {
            run: format!(
                "apply (creates), {LATENCY_MS} ms per request, --parallelism {parallelism}"
            ),
            organizations: sizes.creates,
            measured,
            verdict,
        });
    }

    let bodies = bench.work.join("bodies.jsonl");
    fixtures::on_premises_bodies(&bodies, sizes.creates)
        .map_err(|e| format!("cannot write {}: {e}", bodies.display()))?;
    let server = emulator::start(
        &bench.vboctl,
        &bench.work,
        0,
        &["--latency", &LATENCY_MS.to_string()],
    )?;
    let script = bench.measure(
        Some(&server),
        &[
            "bash".into(),
            baseline.into_os_string(),
            bodies.into_os_string(),
        ],
        "baseline",
    )?;
    if script.code != Some(0) {
        return Err(format!(
            "the baseline script failed (exit {:?}): see {}",
            script.code,
            bench.work.join("baseline.stderr").display()
        ));
    }
    // The script must have made exactly what the manifests describe.
    bench.vboctl(
        Some(&server),
        &[
            "plan".into(),
            creates.clone().into(),
            "--detailed-exitcode".into(),
        ],
        0,
    )?;
    drop(server);
    let ratios: Vec<String> = applies
        .iter()
        .map(|(parallelism, seconds)| {
            format!(
                "{:.1}x slower than --parallelism {parallelism}",
                script.seconds / seconds
            )
        })
        .collect();
    rows.push(Row {
        run: format!(
            "bash + curl + jq, one request at a time, {LATENCY_MS} ms per request (bench/baseline.sh)"
        ),
        organizations: sizes.creates,
        measured: script,
        verdict: ratios.join("; "),
    });

    if !args.no_slow_creates {
        let slow = bench.on_premises(sizes.slow_creates)?;
        for parallelism in [8usize, 32] {
            let server = emulator::start(
                &bench.vboctl,
                &bench.work,
                0,
                &[
                    "--latency",
                    &LATENCY_MS.to_string(),
                    "--latency-post",
                    "2000..5000",
                ],
            )?;
            // A create may take 5 s: well within the default request timeout.
            let measured = bench.vboctl(Some(&server), &apply_args(&slow, parallelism), 0)?;
            drop(server);
            let bound = latency_bound(sizes.slow_creates, 3.5, parallelism);
            let verdict = format!(
                "{:.2}x the mean bound of {bound:.1} s; one at a time would take about {:.0} s",
                measured.seconds / bound,
                sizes.slow_creates as f64 * 3.5
            );
            rows.push(Row {
                run: format!("apply (creates), 2-5 s per create, --parallelism {parallelism}"),
                organizations: sizes.slow_creates,
                measured,
                verdict,
            });
        }
    }

    if args.runs > 1 {
        notes.push(format!(
            "Validate, plan and the 20 ms applies: the median of {} runs, with the largest peak memory of them.",
            args.runs
        ));
    }
    print_table(&rows, &notes, args.quick);
    Ok(())
}

/// Where the benchmark works.
struct Bench {
    vboctl: PathBuf,
    work: PathBuf,
}

impl Bench {
    /// The folder of `count` mixed manifests, written once.
    fn mixed(&self, count: usize) -> Result<PathBuf, String> {
        let folder = self.work.join(format!("mixed-{count}"));
        if !folder.exists() {
            fixtures::mixed_manifests(&folder, count, 10)
                .map_err(|e| format!("cannot write {}: {e}", folder.display()))?;
        }
        Ok(folder)
    }

    /// The folder of `count` OnPremises manifests, written once.
    fn on_premises(&self, count: usize) -> Result<PathBuf, String> {
        let folder = self.work.join(format!("on-premises-{count}"));
        if !folder.exists() {
            fixtures::on_premises_manifests(&folder, count, 10)
                .map_err(|e| format!("cannot write {}: {e}", folder.display()))?;
        }
        Ok(folder)
    }

    /// Runs vboctl with `args` (against `server` when given) and checks its exit code.
    fn vboctl(
        &self,
        server: Option<&emulator::RunningEmulator>,
        args: &[OsString],
        code: i32,
    ) -> Result<Measurement, String> {
        let mut command = vec![self.vboctl.clone().into_os_string()];
        command.extend(args.iter().cloned());
        let shown = args
            .first()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default();
        let measured = self.measure(server, &command, &shown)?;
        if measured.code != Some(code) {
            let log = self.work.join(format!("{shown}.stderr"));
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!(
                "`vboctl {}` exited with {:?}, not {code}:\n{}",
                args.iter()
                    .map(|a| a.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" "),
                measured.code,
                tail.lines().rev().take(10).collect::<Vec<_>>().join("\n")
            ));
        }
        Ok(measured)
    }

    /// Runs `command` under measurement, with the connection and the manifests' secrets in
    /// its environment; its standard error goes to `<name>.stderr` in the work folder.
    fn measure(
        &self,
        server: Option<&emulator::RunningEmulator>,
        command: &[OsString],
        name: &str,
    ) -> Result<Measurement, String> {
        let mut env: Vec<(String, String)> = fixtures::SECRETS
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        env.extend(
            [
                ("VBOCTL_USERNAME", "admin"),
                ("VBOCTL_PASSWORD", "vboctl-demo"),
                ("NO_COLOR", "1"),
                ("CI", "true"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        if let Some(server) = server {
            env.push(("VBOCTL_SERVER".to_owned(), server.url.clone()));
            env.push((
                "VBOCTL_CA_CERT".to_owned(),
                server.ca_cert.display().to_string(),
            ));
        }
        measure::measure(command, &env, &self.work.join(format!("{name}.stderr")))
    }
}

/// Runs `measure` `runs` times: the run of median time, with the largest peak memory of all.
fn median_of(
    runs: u32,
    mut measure: impl FnMut() -> Result<Measurement, String>,
) -> Result<Measurement, String> {
    let mut all = (0..runs.max(1))
        .map(|_| measure())
        .collect::<Result<Vec<_>, _>>()?;
    let most_memory = all.iter().filter_map(|m| m.max_rss_kib).max();
    all.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    let mut median = all.swap_remove(all.len() / 2);
    median.max_rss_kib = most_memory;
    Ok(median)
}

/// `vboctl apply MANIFESTS --auto-approve --parallelism N`.
fn apply_args(manifests: &Path, parallelism: usize) -> Vec<OsString> {
    vec![
        "apply".into(),
        manifests.into(),
        "--auto-approve".into(),
        "--parallelism".into(),
        parallelism.to_string().into(),
    ]
}

/// What `count` creates cost at `seconds` each, `parallelism` at a time, if nothing else did.
fn latency_bound(count: usize, seconds: f64, parallelism: usize) -> f64 {
    (count as f64 / parallelism as f64).ceil() * seconds
}

fn seconds_target(measured: &Measurement, target: f64, quick: bool) -> String {
    if quick {
        return format!("target under {target} s at full size");
    }
    let met = if measured.seconds < target {
        "met"
    } else {
        "not met"
    };
    format!("target under {target} s: {met}")
}

fn both_targets(measured: &Measurement, seconds: f64, megabytes: u64, quick: bool) -> String {
    if quick {
        return format!("target under {seconds} s and {megabytes} MB at full size");
    }
    let memory_met = measured
        .max_rss_kib
        .is_some_and(|kib| kib * 1024 < megabytes * 1_000_000);
    format!(
        "target under {seconds} s: {}; under {megabytes} MB: {}",
        if measured.seconds < seconds {
            "met"
        } else {
            "not met"
        },
        if memory_met { "met" } else { "not met" }
    )
}

fn bound_verdict(measured: &Measurement, bound: f64, allowed: f64) -> String {
    let ratio = measured.seconds / bound;
    format!(
        "{ratio:.2}x the bound of {bound:.2} s; target within {allowed}x: {}",
        if ratio <= allowed { "met" } else { "not met" }
    )
}

/// Whether planning grows linearly: time and memory per tenfold increase of the size.
fn growth_line(growth: &[(usize, Measurement)]) -> String {
    let per_tenfold =
        |from: &(usize, Measurement), to: &(usize, Measurement), value: fn(&Measurement) -> f64| {
            let scale = to.0 as f64 / from.0 as f64;
            (value(&to.1) / value(&from.1)).powf(10f64.ln() / scale.ln())
        };
    let seconds = |m: &Measurement| m.seconds;
    let memory = |m: &Measurement| m.max_rss_kib.unwrap_or(0) as f64;
    let mut parts = Vec::new();
    for pair in growth.windows(2) {
        let time = per_tenfold(&pair[0], &pair[1], seconds);
        let rss = per_tenfold(&pair[0], &pair[1], memory);
        let verdict = |ratio: f64| {
            if ratio <= 12.0 {
                "linear or better"
            } else {
                "worse than linear"
            }
        };
        parts.push(format!(
            "{} to {}: time x{time:.1} per tenfold ({}), memory x{rss:.1} per tenfold ({})",
            pair[0].0,
            pair[1].0,
            verdict(time),
            verdict(rss)
        ));
    }
    format!("Growth of plan: {}.", parts.join("; "))
}

fn print_table(rows: &[Row], notes: &[String], quick: bool) {
    if quick {
        println!("Quick run: a tenth of every size. Verdicts are for the full sizes only.\n");
    }
    println!("| run | organizations | seconds | peak memory | compared with |");
    println!("|---|---:|---:|---:|---|");
    for row in rows {
        let memory = row.measured.max_rss_kib.map_or("n/a".to_owned(), |kib| {
            format!("{:.0} MB", kib as f64 * 1024.0 / 1e6)
        });
        println!(
            "| {} | {} | {:.2} | {memory} | {} |",
            row.run, row.organizations, row.measured.seconds, row.verdict
        );
    }
    println!();
    for note in notes {
        println!("{note}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn took(seconds: f64, kib: u64) -> Measurement {
        Measurement {
            seconds,
            max_rss_kib: Some(kib),
            code: Some(0),
        }
    }

    #[test]
    fn the_median_run_is_reported_with_the_most_memory_of_all() {
        let mut runs = vec![took(0.9, 10), took(0.5, 30), took(0.7, 20)].into_iter();
        let median = median_of(3, || Ok(runs.next().unwrap())).unwrap();
        assert!((median.seconds - 0.7).abs() < 1e-9);
        assert_eq!(median.max_rss_kib, Some(30));
        let mut failing = [Ok(took(0.1, 1)), Err("boom".to_owned())].into_iter();
        assert_eq!(
            median_of(2, || failing.next().unwrap()).unwrap_err(),
            "boom"
        );
    }

    #[test]
    fn the_latency_bound_counts_whole_rounds() {
        assert!((latency_bound(1000, 0.02, 10) - 2.0).abs() < 1e-9);
        assert!((latency_bound(1000, 0.02, 32) - 0.64).abs() < 1e-9);
        assert!((latency_bound(16, 3.5, 32) - 3.5).abs() < 1e-9);
    }

    #[test]
    fn growth_is_judged_per_tenfold() {
        let line = growth_line(&[
            (1_000, took(0.1, 20_000)),
            (10_000, took(1.0, 200_000)),
            (50_000, took(25.0, 1_000_000)),
        ]);
        assert!(
            line.contains("1000 to 10000: time x10.0 per tenfold (linear or better), memory x10.0 per tenfold (linear or better)"),
            "{line}"
        );
        // Five times the size for 25 times the time: the square, 100 per tenfold.
        assert!(
            line.contains("time x100.0 per tenfold (worse than linear)"),
            "{line}"
        );
    }

    #[test]
    fn verdicts_say_whether_targets_hold() {
        assert_eq!(
            bound_verdict(&took(2.1, 0), 2.0, 1.1),
            "1.05x the bound of 2.00 s; target within 1.1x: met"
        );
        assert!(bound_verdict(&took(2.6, 0), 2.0, 1.1).ends_with("not met"));
        assert_eq!(
            both_targets(&took(0.4, 70_000), 0.5, 60, false),
            "target under 0.5 s: met; under 60 MB: not met"
        );
    }
}
