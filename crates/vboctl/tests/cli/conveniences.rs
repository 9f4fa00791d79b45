//! Everyday conveniences: `--version` names the commit, shell completions, man pages.

use std::process::Command;

use crate::support::bare_vboctl;

fn run(args: &[&str], dir: &std::path::Path) -> (i32, String, String) {
    let output = bare_vboctl(dir).args(args).output().expect("vboctl runs");
    (
        output.status.code().expect("an exit code"),
        String::from_utf8(output.stdout).expect("UTF-8"),
        String::from_utf8(output.stderr).expect("UTF-8"),
    )
}

/// The commit the tests are built from, when they are built from a git checkout.
fn checkout_commit() -> Option<String> {
    let output = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = run(&["--version"], dir.path());
    assert_eq!(code, 0);
    let expected = format!("vboctl {}", env!("CARGO_PKG_VERSION"));
    assert!(stdout.starts_with(&expected), "{stdout}");
    match checkout_commit() {
        Some(commit) => assert!(
            stdout.starts_with(&format!("{expected} ({commit}")),
            "built from a checkout at {commit}: {stdout}"
        ),
        None => assert_eq!(stdout.trim_end(), expected),
    }
}

#[test]
fn completions_cover_every_shell_subcommand_and_option() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, stdout, stderr) = run(&["completions", shell], dir.path());
        assert_eq!(code, 0, "{shell}: {stderr}");
        for word in [
            "server-cert",
            "export",
            "api-version",
            "selector",
            "env-file",
        ] {
            assert!(stdout.contains(word), "{shell} completes {word}");
        }
    }
    let (code, _, stderr) = run(&["completions", "tcsh"], dir.path());
    assert_eq!(code, 1);
    assert!(stderr.contains("invalid value 'tcsh'"), "{stderr}");
}

#[test]
fn man_writes_a_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(&["man", "--out", "man1"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    for page in [
        "vboctl",
        "vboctl-plan",
        "vboctl-apply",
        "vboctl-server-cert",
        "vboctl-export",
        "vboctl-agent",
    ] {
        let path = dir.path().join("man1").join(format!("{page}.1"));
        let roff = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(roff.contains(&format!(".TH {page} 1")), "{roff}");
        assert!(roff.contains(".SH NAME"), "{roff}");
        assert!(stdout.contains(&format!("{page}.1")), "{stdout}");
    }
    let plan = std::fs::read_to_string(dir.path().join("man1/vboctl-plan.1")).unwrap();
    assert!(plan.contains("api\\-version"), "options are documented");
}
