//! Ctrl-C during `vboctl apply`, sent as SIGINT to the real binary while the emulator holds its
//! requests: the first stops new changes and reports what was done and what was not, the
//! second stops at once; either way a re-run converges without a duplicate.

use std::time::Duration;

use vbo_emulator::{EmulatorConfig, Faults};

use crate::apply_support::{Setup, result_lines, tenants};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_ctrl_c_finishes_the_changes_in_flight_and_lists_those_not_started() {
    const COUNT: usize = 8;
    let mut setup = Setup::with_config(EmulatorConfig {
        faults: Faults {
            latency: Some(Duration::from_millis(200)..=Duration::from_millis(200)),
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let names = tenants(&mut setup, COUNT);

    // Two at a time, each a fifth of a second: interrupted after the first is made.
    let running = setup.spawn(&["apply", "manifests", "--auto-approve", "--parallelism", "2"]);
    setup
        .wait_for_counts("a first create", |counts| counts.created >= 1)
        .await;
    running.interrupt();
    let run = running.finish().await;
    run.expect_code(130);

    let counts = setup.emulator.request_counts();
    let created = result_lines(&run.stdout);
    assert!(
        created
            .iter()
            .all(|line| line.starts_with("+ created tenant-")),
        "{created:#?}"
    );
    let not_started: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| line.starts_with("  not started: create tenant-"))
        .collect();
    // Every change is reported once, made or not; what was sent was made and reported.
    assert!(!not_started.is_empty(), "{}", run.stdout);
    assert_eq!(created.len() + not_started.len(), COUNT, "{}", run.stdout);
    for name in &names {
        let mentions = run
            .stdout
            .lines()
            .filter(|line| line.contains(&format!(" {name}")))
            .filter(|line| line.starts_with("+ ") || line.starts_with("  not started"))
            .count();
        assert_eq!(mentions, 1, "{name} in:\n{}", run.stdout);
    }
    assert_eq!(counts.created as usize, created.len());
    assert_eq!(counts.route("POST /v3/Organizations"), counts.created);
    run.assert_stdout_contains(&format!(
        "Apply interrupted: {} created, 0 updated, 0 deleted, 0 failed. {} not started.\n",
        created.len(),
        not_started.len()
    ));
    run.assert_stderr_contains("interrupted: no new change is started");
    run.assert_stderr_contains(&format!(
        "error: apply was interrupted: {} changes not started, 0 changes failed",
        not_started.len()
    ));

    // A re-run does the rest, and nothing twice.
    setup.emulator.set_faults(Faults::default()).unwrap();
    let rerun = setup
        .expect(&["apply", "manifests", "--auto-approve"], 0)
        .await;
    rerun.assert_stdout_ends_with(&format!(
        "Apply complete: {} created, 0 updated, 0 deleted, 0 failed.\n",
        not_started.len()
    ));
    assert_eq!(setup.names(), names);
    assert_eq!(setup.emulator.request_counts().created, COUNT as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_stops_at_once() {
    const COUNT: usize = 3;
    let mut setup = Setup::start().await;
    let names = tenants(&mut setup, COUNT);
    // Each create is made, and its answer held back for longer than the run may wait.
    setup
        .emulator
        .set_faults(Faults {
            slow_answer_rate: 1.0,
            slow_answer_delay: Duration::from_secs(30),
            ..Faults::default()
        })
        .unwrap();

    let running = setup.spawn(&[
        "apply",
        "manifests",
        "--auto-approve",
        "--parallelism",
        "1",
        "--request-timeout",
        "20",
    ]);
    setup
        .wait_for_counts("a create waiting for its answer", |counts| {
            counts.faults.slow_answers >= 1
        })
        .await;
    running.interrupt();
    running.wait_for_stderr("Press Ctrl-C again").await;
    running.interrupt();
    let run = running.finish().await;
    run.expect_code(130);
    run.assert_stderr_contains("interrupted again: stopping at once");
    // It did not wait for the answer, nor report as if it had.
    assert!(!run.stdout.contains("Apply interrupted"), "{}", run.stdout);
    assert!(result_lines(&run.stdout).is_empty(), "{}", run.stdout);

    // The create in flight was made: a re-run finds it and makes only the others.
    setup.emulator.set_faults(Faults::default()).unwrap();
    setup
        .expect(&["apply", "manifests", "--auto-approve"], 0)
        .await
        .assert_stdout_ends_with(&format!(
            "Apply complete: {} created, 0 updated, 0 deleted, 0 failed.\n",
            COUNT - 1
        ));
    assert_eq!(setup.names(), names);
    let counts = setup.emulator.request_counts();
    assert_eq!(counts.created, COUNT as u64);
    assert_eq!(counts.route("POST /v3/Organizations"), COUNT as u64);
}
