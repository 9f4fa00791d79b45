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
