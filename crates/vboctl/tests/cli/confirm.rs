//! The confirmation prompt on a real terminal (a pseudo-terminal): only `yes` applies; any
//! other answer refuses, and nothing reaches the server.

use rexpect::process::WaitStatus;

use crate::apply_support::Setup;

/// Runs `vboctl apply manifests` on a pseudo-terminal, answers the prompt with `answer`, and
/// returns the exit code and what was printed after the prompt.
async fn answer_prompt(setup: &Setup, answer: &str) -> (i32, String) {
    let command = setup.command(&["apply", "manifests"]);
    let answer = answer.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut session =
            rexpect::session::spawn_command(command, Some(30_000)).expect("vboctl starts");
        session
            .exp_string("Apply these changes? Only 'yes' is accepted: ")
            .expect("the prompt");
        session.send_line(&answer).expect("the answer is typed");
        let after = session.exp_eof().expect("vboctl ends");
        let code = match session.process().wait().expect("vboctl exits") {
            WaitStatus::Exited(_, code) => code,
            other => panic!("vboctl did not exit normally: {other:?}"),
        };
        (code, after)
    })
    .await
    .expect("the session ends")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_yes_applies() {
    let setup = Setup::start().await;
    setup.write_on_premises("corp.example.com", "mail.corp.example.com");

    for refused in ["y", "YES", "", "yes please"] {
        let (code, after) = answer_prompt(&setup, refused).await;
        assert_eq!(code, 1, "{refused:?}: {after}");
        assert!(
            after.contains("error: apply cancelled; nothing was changed"),
            "{refused:?}: {after}"
        );
        assert_eq!(setup.writes(), (0, 0), "{refused:?}: nothing was sent");
        assert!(setup.names().is_empty());
    }

    let (code, after) = answer_prompt(&setup, "yes").await;
    assert_eq!(code, 0, "{after}");
    assert!(
        after.contains("Apply complete: 1 created, 0 updated, 0 deleted, 0 failed."),
        "{after}"
    );
    assert_eq!(setup.names(), ["corp.example.com"]);
    assert_eq!(setup.writes(), (1, 1));
}

/// Runs vboctl with `args` and `CI=true` on a pseudo-terminal (as some CI runners attach one)
/// and returns the exit code and everything it printed.
async fn run_in_ci_on_terminal(setup: &Setup, args: &[&str]) -> (i32, String) {
    let mut command = setup.command(args);
    command.env("CI", "true").env_remove("NO_COLOR");
    tokio::task::spawn_blocking(move || {
        let mut session =
            rexpect::session::spawn_command(command, Some(30_000)).expect("vboctl starts");
        let output = session
            .exp_eof()
            .expect("vboctl ends without waiting for input");
        let code = match session.process().wait().expect("vboctl exits") {
            WaitStatus::Exited(_, code) => code,
            other => panic!("vboctl did not exit normally: {other:?}"),
        };
        (code, output)
    })
    .await
    .expect("the session ends")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_ci_a_terminal_gets_no_prompt_no_colour_and_no_progress_bar() {
    let setup = Setup::start().await;
    setup.write_on_premises("corp.example.com", "mail.corp.example.com");

    let (code, output) = run_in_ci_on_terminal(&setup, &["apply", "manifests"]).await;
    assert_eq!(code, 1, "{output}");
    assert!(!output.contains("Apply these changes?"), "{output}");
    assert!(
        output.contains("refusing to apply without confirmation: the CI variable is set"),
        "{output}"
    );
    assert_eq!(setup.writes(), (0, 0), "nothing was sent");

    let (code, output) =
        run_in_ci_on_terminal(&setup, &["apply", "manifests", "--auto-approve"]).await;
    assert_eq!(code, 0, "{output}");
    assert!(
        !output.contains('\u{1b}'),
        "no escape sequence at all: {output:?}"
    );
    assert!(!output.contains("/1 changes"), "no progress bar: {output}");
    let lines: Vec<&str> = output.lines().map(str::trim_end).collect();
    assert!(
        lines.contains(&"Apply complete: 1 created, 0 updated, 0 deleted, 0 failed."),
        "{output}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("+ created corp.example.com (id ")),
        "one line per change: {output}"
    );
    assert_eq!(setup.names(), ["corp.example.com"]);
}
