//! `vboctl demo`: the whole loop on its own emulator, step by step, leaving nothing behind.

use std::net::TcpStream;
use std::path::PathBuf;

use vbo_emulator::DEFAULT_PASSWORD;

use crate::apply_support::{Run, result_lines, run_vboctl};

/// Runs `vboctl demo` in an empty folder with only `env` set. The run returns once standard
/// output and standard error are closed, that is once the demo and every process it started
/// (they share its output) have exited.
async fn demo(env: &[(&str, &str)]) -> Run {
    let folder = tempfile::tempdir().unwrap();
    let env = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let run = run_vboctl(folder.path().to_owned(), &["demo"], env).await;
    run.expect_code(0);
    run
}

/// The text after `prefix` on the first line that has it, up to `end`.
fn find_between<'a>(text: &'a str, prefix: &str, end: &str) -> &'a str {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix:?} in:\n{text}"))
        + prefix.len();
    let rest = &text[start..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The demo's working folder, as it prints it.
fn demo_folder(stdout: &str) -> PathBuf {
    PathBuf::from(find_between(
        stdout,
        "Every command below runs in ",
        " with this environment",
    ))
}

/// Splits the output at its `==> ` headings: (heading, body) pairs.
fn sections(stdout: &str) -> Vec<(String, String)> {
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in stdout.lines() {
        if let Some(heading) = line.strip_prefix("==> ") {
            sections.push((heading.to_owned(), String::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    sections
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_the_whole_loop_step_by_step_and_leaves_nothing_running() {
    // Without NO_COLOR: output to a pipe has no colour anyway.
    let run = demo(&[]).await;
    let stdout = &run.stdout;
    let sections = sections(stdout);
    let headings: Vec<&str> = sections.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(headings.len(), 6, "{headings:#?}");
    assert_eq!(headings[0], "vboctl demo");
    assert_eq!(headings[5], "Done");
    let steps = [
        ("Validate", "$ vboctl validate "),
        ("Plan:", "$ vboctl plan "),
        ("Apply:", "$ vboctl apply "),
        ("Plan again:", "$ vboctl plan "),
    ];
    for (index, (title, command)) in steps.iter().enumerate() {
        let (heading, body) = &sections[index + 1];
        let expected = format!("Step {} of 4: {title}", index + 1);
        assert!(heading.starts_with(&expected), "{heading:?}, {expected:?}");
        let first = body.lines().next().unwrap_or_default();
        assert!(first.starts_with(command), "{heading}: {first:?}");
    }
    assert!(
        sections[3]
            .1
            .lines()
            .next()
            .unwrap()
            .contains("--auto-approve")
    );

    // Validate passes; the first plan has creates; apply makes exactly those; the second plan
    // has nothing left to do.
    assert!(sections[1].1.contains("\nvalid: "), "{}", sections[1].1);
    let to_create: usize = find_between(&sections[2].1, "\nPlan: ", " to create")
        .parse()
        .unwrap();
    assert!(to_create > 0, "{}", sections[2].1);
    let apply = &sections[3].1;
    let created = result_lines(apply);
    assert_eq!(created.len(), to_create, "{apply}");
    assert!(created.iter().all(|line| line.starts_with("+ created ")));
    assert!(
        apply.contains(&format!(
            "\nApply complete: {to_create} created, 0 updated, 0 deleted, 0 failed.\n"
        )),
        "{apply}"
    );
    let again = &sections[4].1;
    assert!(again.contains("\nNo changes. "), "{again}");
    assert!(!again.contains(" will be "), "{again}");
    // The unmanaged organization is shown, and left alone.
    assert!(again.contains("unmanaged"), "{again}");

    // Nothing is left behind: the emulator no longer listens and the folder is gone.
    let server = find_between(stdout, "export VBOCTL_SERVER=https://", "\n");
    assert!(
        TcpStream::connect(server).is_err(),
        "the emulator at {server} still accepts connections"
    );
    let folder = demo_folder(stdout);
    assert!(!folder.exists(), "{} is left behind", folder.display());
    assert!(
        !run.all().contains('\u{1b}'),
        "no colour without a terminal"
    );
}

/// `demo-` and 16 hexadecimal digits: how the demo's random secret values look.
fn random_secret_values(text: &str) -> Vec<&str> {
    text.match_indices("demo-")
        .filter_map(|(start, _)| text.get(start..start + 21))
        .filter(|candidate| candidate[5..].chars().all(|c| c.is_ascii_hexdigit()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_output_of_the_demo_carries_a_secret_even_at_trace_level() {
    let run = demo(&[("NO_COLOR", "1"), ("RUST_LOG", "trace")]).await;
    assert!(run.stderr.contains(" TRACE "), "trace logging is on");
    // The folder's name starts with `vboctl-demo`, which is also the demo account's password.
    let folder = demo_folder(&run.stdout).display().to_string();
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        let text = text.replace(&folder, "[folder]");
        for forbidden in [DEFAULT_PASSWORD, "access_token", "refresh_token", "Bearer "] {
            assert!(
                !text.contains(forbidden),
                "{forbidden:?} on {stream}:\n{text}"
            );
        }
        let values = random_secret_values(&text);
        assert!(values.is_empty(), "secret values {values:?} on {stream}");
    }
}

#[test]
fn the_random_value_scan_finds_what_it_looks_for() {
    assert_eq!(
        random_secret_values("x demo-0123456789abcdef y /tmp/vboctl-demo-Ab12Cd/"),
        ["demo-0123456789abcdef"]
    );
}
