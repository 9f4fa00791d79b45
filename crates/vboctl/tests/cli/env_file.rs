//! `--env-file` and `VBOCTL_ENV_FILE` end to end: `fromEnv` secrets read from a dotenv file by
//! `plan` and `apply`, after the environment, and never printed.

use vbo_emulator::{EmulatorConfig, User};

use crate::apply_support::{Run, Setup, office365, on_premises};

/// Every value below starts with this, so that no part of any of them may be printed.
const MARK: &str = "EnvFileValue-";
const LOGIN_PASSWORD: &str = "EnvFileValue-login-5e1f";

/// An env file using each form the format has, and the values it gives.
const ENV_FILE: &str = "# secrets for the test tenants\n\
    export ENV_PW='EnvFileValue-single-$quoted-7c1d'\n\
    CORP_PW=\"EnvFileValue-double-\\\"escaped\\\"-9e2a\" # Exchange on premises\n\
    \n\
    OTHER_PW = EnvFileValue-unquoted-3b4c   # not referenced\n";
const ENV_PW: &str = "EnvFileValue-single-$quoted-7c1d";
const CORP_PW: &str = "EnvFileValue-double-\"escaped\"-9e2a";

/// Writes `name` in the working folder with `text` and permission bits `mode`.
fn write_env_file(setup: &Setup, name: &str, text: &str, mode: u32) {
    setup.write(name, text);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(
            setup.path().join(name),
            std::fs::Permissions::from_mode(mode),
        )
        .unwrap();
    }
    #[cfg(not(unix))]
    let _ = mode;
}

/// A set-up whose manifests' secrets (`ENV_PW`, `CORP_PW`) are in no environment variable:
/// only in `secrets.env`.
async fn setup() -> Setup {
    let mut setup = Setup::with_config(EmulatorConfig {
        users: vec![User::new("operator", LOGIN_PASSWORD)],
        ..EmulatorConfig::default()
    })
    .await;
    setup.unset_env("CORP_PW");
    setup.unset_env("ENV_PW");
    setup.write(
        "manifests/env.yaml",
        &office365("env.example.com", "Worldwide", "{fromEnv: ENV_PW}"),
    );
    setup.write(
        "manifests/corp.yaml",
        &on_premises(
            "corp.example.com",
            "mail.corp.example.com",
            "{fromEnv: CORP_PW}",
        ),
    );
    write_env_file(&setup, "secrets.env", ENV_FILE, 0o600);
    setup
}

/// Requests the emulator received so far.
#[track_caller]
fn assert_received(setup: &Setup, env_pw: &str, corp_pw: &str) {
    assert_eq!(
        setup.stored("env.example.com")["body"]["exchangeOnlineSettings"]["password"],
        env_pw
    );
    assert_eq!(
        setup.stored("corp.example.com")["body"]["exchangeSettings"]["password"],
        corp_pw
    );
}

#[track_caller]
fn assert_no_value(run: &Run) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        for forbidden in [MARK, "access_token", "refresh_token", "Bearer "] {
            assert!(
                !text.contains(forbidden),
                "`vboctl {}` printed {forbidden:?} on {stream}:\n{text}",
                run.args
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_apply_read_secrets_from_an_env_file_and_never_print_them_even_at_trace_level() {
    let mut setup = setup().await;
    setup.set_env("VBOCTL_PASSWORD", LOGIN_PASSWORD);
    setup.set_env("RUST_LOG", "trace");
    let mut runs = Vec::new();

    // Without the file, the variables are missing; with it, plan and a saved plan work.
    let missing = setup.expect(&["plan", "manifests"], 1).await;
    missing.assert_stderr_contains("environment variable ENV_PW is not set");
    runs.push(missing);
    let env_file = ["--env-file", "secrets.env"];
    runs.push(
        setup
            .expect(&[&["plan", "manifests"][..], &env_file].concat(), 0)
            .await,
    );
    let out = [
        "plan",
        "manifests",
        "--out",
        "plan.json",
        "--format",
        "json",
    ];
    runs.push(setup.expect(&[&out[..], &env_file].concat(), 0).await);
    let saved = std::fs::read_to_string(setup.path().join("plan.json")).unwrap();
    assert!(!saved.contains(MARK), "{saved}");

    // A saved plan, with the file given by VBOCTL_ENV_FILE this time.
    setup.set_env("VBOCTL_ENV_FILE", "secrets.env");
    runs.push(setup.expect(&["apply", "--plan", "plan.json"], 0).await);
    assert_received(&setup, ENV_PW, CORP_PW);

    // An update sends the secrets again, as text and as JSON.
    setup.write(
        "manifests/corp.yaml",
        &on_premises(
            "corp.example.com",
            "mail2.corp.example.com",
            "{fromEnv: CORP_PW}",
        ),
    );
    runs.push(
        setup
            .expect(&["apply", "manifests", "--auto-approve"], 0)
            .await,
    );
    setup.write(
        "manifests/corp.yaml",
        &on_premises(
            "corp.example.com",
            "mail3.corp.example.com",
            "{fromEnv: CORP_PW}",
        ),
    );
    let json = ["apply", "manifests", "--auto-approve", "--format", "json"];
    runs.push(setup.expect(&json, 0).await);
    assert_received(&setup, ENV_PW, CORP_PW);

    // Failures that name the file: a variable it lacks, a bad line, a loose mode.
    setup.write(
        "manifests/lacking.yaml",
        &on_premises(
            "lacking.example.com",
            "mail.lacking.example.com",
            "{fromEnv: LACKING_PW}",
        ),
    );
    let lacking = setup.expect(&["plan", "manifests"], 1).await;
    lacking.assert_stderr_contains(
        "environment variable LACKING_PW is not set, and secrets.env does not set it either",
    );
    runs.push(lacking);
    setup.remove("manifests/lacking.yaml");
    write_env_file(
        &setup,
        "broken.env",
        &format!("{ENV_FILE}CORP_PW='{MARK}unterminated\n"),
        0o600,
    );
    let broken = setup
        .vboctl_with(
            &["apply", "manifests"],
            &[("VBOCTL_ENV_FILE", "broken.env")],
        )
        .await;
    broken.expect_code(1);
    broken.assert_stderr_contains("broken.env:6: CORP_PW: the value's opening ' is never closed");
    runs.push(broken);
    write_env_file(&setup, "open.env", ENV_FILE, 0o644);
    let open = setup
        .vboctl_with(&["plan", "manifests"], &[("VBOCTL_ENV_FILE", "open.env")])
        .await;
    open.expect_code(0);
    runs.push(open);

    for run in &runs {
        assert_no_value(run);
    }
    // Every run that got as far as the server logged its requests at trace level.
    assert!(runs[1].stderr.contains(" TRACE "), "{}", runs[1].stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variable_set_in_the_environment_wins_over_the_env_file() {
    let mut setup = setup().await;
    setup.set_env("ENV_PW", "from-the-environment");
    setup
        .expect(
            &[
                "apply",
                "manifests",
                "--auto-approve",
                "--env-file",
                "secrets.env",
            ],
            0,
        )
        .await;
    // ENV_PW from the environment, CORP_PW (only in the file) from the file.
    assert_received(&setup, "from-the-environment", CORP_PW);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_file_problems_name_the_file_and_line_but_never_a_value() {
    let setup = setup().await;
    let before = setup.writes();

    // A missing file is an error naming it.
    let run = setup
        .expect(&["plan", "manifests", "--env-file", "nowhere.env"], 1)
        .await;
    run.assert_stderr_contains("cannot read the env file nowhere.env: ");

    // A bad line: its file and number, what is wrong, not its text.
    write_env_file(
        &setup,
        "bad.env",
        "ENV_PW=fine\n# a comment\nCORP_PW=\"EnvFileValue-never-closed\n",
        0o600,
    );
    let run = setup
        .expect(&["apply", "manifests", "--env-file", "bad.env"], 1)
        .await;
    run.assert_stderr_contains("bad.env:3: CORP_PW: the value's opening \" is never closed");
    assert_no_value(&run);
    write_env_file(&setup, "bad.env", "EnvFileValue-pasted-alone\n", 0o600);
    let run = setup
        .expect(&["plan", "manifests", "--env-file", "bad.env"], 1)
        .await;
    run.assert_stderr_contains("bad.env:1: expected NAME=VALUE");
    assert_no_value(&run);

    // An example line left empty is not sent as an empty password.
    write_env_file(&setup, "empty.env", "ENV_PW=\nCORP_PW=x\n", 0o600);
    let run = setup
        .expect(&["plan", "manifests", "--env-file", "empty.env"], 1)
        .await;
    run.assert_stderr_contains(
        "environment variable ENV_PW is not set, and empty.env sets it to an empty value",
    );
    // None of these changed the server (it may have been read meanwhile).
    assert_eq!(setup.writes(), before);

    // A file others may read works, with a warning naming it and its mode.
    #[cfg(unix)]
    {
        write_env_file(&setup, "open.env", ENV_FILE, 0o644);
        let run = setup
            .expect(&["plan", "manifests", "--env-file", "open.env"], 0)
            .await;
        run.assert_stderr_contains(
            "warning: the env file open.env holds secrets but its group or others have access \
             to it (mode 0644); restrict it with: chmod 600 open.env",
        );
        let run = setup
            .expect(&["plan", "manifests", "--env-file", "secrets.env"], 0)
            .await;
        assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    }
}
