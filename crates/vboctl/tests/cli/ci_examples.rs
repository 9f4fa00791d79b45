//! The pipelines in examples/ci parse, have the jobs docs/ci.md describes, and name only
//! commands and flags vboctl has: every `vboctl ...` command line in them is run with `--help`
//! (clap checks every flag and value before it prints help), and the validate lines are run for
//! real on the example fleet.

use std::path::PathBuf;

use serde_json::Value;

use crate::{repository, vboctl};

fn examples_ci() -> PathBuf {
    repository().join("examples/ci")
}

/// The file, parsed as YAML.
fn pipeline(name: &str) -> Value {
    let text = std::fs::read_to_string(examples_ci().join(name)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{name} is not valid YAML: {e}"))
}

/// Every shell script of a pipeline: GitHub steps' `run`, GitLab jobs' `script` lines.
fn scripts(pipeline: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(jobs) = pipeline["jobs"].as_object() {
        for job in jobs.values() {
            for step in job["steps"].as_array().into_iter().flatten() {
                out.extend(step["run"].as_str().map(str::to_owned));
            }
        }
    } else if let Some(jobs) = pipeline.as_object() {
        for job in jobs.values() {
            for key in ["before_script", "script"] {
                for line in job[key].as_array().into_iter().flatten() {
                    out.extend(line.as_str().map(str::to_owned));
                }
            }
        }
    }
    out
}

/// The `vboctl` commands in a script, each as its words: lines continued with `\` are joined,
/// a command starts at the beginning of a line or after `;`, `&&`, `||`, `{` or `(`, and ends at
/// an unquoted redirection, pipe, separator or `}`. Quotes are removed.
fn vboctl_commands(script: &str) -> Vec<Vec<String>> {
    let joined = script.replace("\\\n", " ");
    let mut commands = Vec::new();
    for line in joined.lines() {
        let mut rest = line.trim_start();
        loop {
            if let Some(after) = rest.strip_prefix("vboctl ") {
                let (words, remaining) = words_until_operator(after);
                commands.push(words);
                rest = remaining;
            }
            let Some(next) = rest.find([';', '&', '|', '{', '(']) else {
                break;
            };
            rest = rest[next..]
                .trim_start_matches([';', '&', '|', '{', '('])
                .trim_start();
        }
    }
    commands
}

/// The words of a command up to the first unquoted operator, and the text from there.
fn words_until_operator(text: &str) -> (Vec<String>, &str) {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    for (index, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, '>' | '|' | ';' | '&' | '}' | ')') => {
                if !word.is_empty() {
                    words.push(word);
                }
                return (words, &text[index..]);
            }
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            (None, c) => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    (words, "")
}

/// `word` with GitHub expressions and shell variables replaced by `values` (or `x`).
fn substitute(word: &str, values: &[(&str, &str)]) -> String {
    let mut out = word.to_owned();
    for (name, value) in values {
        out = out.replace(name, value);
    }
    while let (Some(start), Some(end)) = (out.find("${{"), out.find("}}")) {
        out.replace_range(start..end + 2, "x");
    }
    while let Some(start) = out.find('$') {
        let end = out[start + 1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(out.len(), |n| start + 1 + n);
        out.replace_range(start..end, "x");
    }
    out
}

/// Runs every vboctl command of `pipeline` with `--help` and returns them, substituted.
fn check_commands(name: &str, values: &[(&str, &str)]) -> Vec<Vec<String>> {
    let commands: Vec<Vec<String>> = scripts(&pipeline(name))
        .iter()
        .flat_map(|script| vboctl_commands(script))
        .map(|words| words.iter().map(|w| substitute(w, values)).collect())
        .collect();
    for words in &commands {
        let output = vboctl().args(words).arg("--help").output().unwrap();
        assert!(
            output.status.success(),
            "{name}: `vboctl {}` is not a command vboctl has:\n{}",
            words.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    commands
}

/// The first word of each command, its flags and the value of `--format`, for assertions about
/// what a pipeline does.
fn shapes(commands: &[Vec<String>]) -> Vec<String> {
    commands
        .iter()
        .map(|words| {
            let mut shape = vec![words[0].as_str()];
            for (index, word) in words.iter().enumerate() {
                if word.starts_with("--") {
                    shape.push(word);
                }
                if word == "--format" {
                    shape.extend(words.get(index + 1).map(String::as_str));
                }
            }
            shape.join(" ")
        })
        .collect()
}

#[test]
fn the_command_extractor_finds_commands_after_operators_and_across_lines() {
    let found = vboctl_commands(
        "cargo install --git https://github.com/vboctl/vboctl --tag \"$REF\" vboctl\nvboctl plan \"a b\" \\\n  --out plan.json && vboctl show plan.json > plan.md\nx || { vboctl validate 'c'; exit 1; }",
    );
    assert_eq!(
        found,
        [
            vec!["plan", "a b", "--out", "plan.json"],
            vec!["show", "plan.json"],
            vec!["validate", "c"],
        ]
    );
    assert_eq!(
        substitute("fleet/${{ matrix.server }}/$RUNNER_TEMP", &[]),
        "fleet/x/x"
    );
}

#[test]
fn the_github_pipeline_plans_on_pull_requests_applies_the_saved_plan_and_checks_drift() {
    let pipeline = pipeline("github-actions.yml");
    let triggers = &pipeline["on"];
    for event in ["pull_request", "push", "schedule"] {
        assert!(!triggers[event].is_null(), "on.{event}: {triggers}");
    }
    let jobs = &pipeline["jobs"];
    for job in ["validate", "plan", "apply", "drift"] {
        assert!(jobs[job].is_object(), "job {job}");
    }
    // The fleet: a matrix of servers, each with its folder, URL and credentials.
    for job in ["plan", "apply", "drift"] {
        let servers = jobs[job]["strategy"]["matrix"]["include"]
            .as_array()
            .unwrap_or_else(|| panic!("{job} has a matrix of servers"));
        assert!(servers.len() >= 2, "{job}: a fleet has several servers");
        for server in servers {
            let folder = examples_ci()
                .join("fleet")
                .join(server["server"].as_str().unwrap());
            assert!(folder.is_dir(), "{}", folder.display());
            assert!(server["url"].as_str().unwrap().starts_with("https://"));
        }
        let env = &jobs[job]["env"];
        assert_eq!(
            env["VBOCTL_PASSWORD"],
            "${{ secrets[format('VBO_{0}_PASSWORD', matrix.server)] }}"
        );
        assert!(
            env["VBOCTL_SERVER"]
                .as_str()
                .unwrap()
                .contains("matrix.url")
        );
    }
    let uses = |job: &str| -> Vec<String> {
        jobs[job]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|step| step["uses"].as_str().map(str::to_owned))
            .collect()
    };
    assert!(uses("plan").contains(&"actions/upload-artifact@v4".to_owned()));
    assert!(uses("plan").contains(&"actions/github-script@v7".to_owned()));
    assert!(uses("apply").contains(&"actions/download-artifact@v4".to_owned()));

    let commands = check_commands("github-actions.yml", &[("${{ matrix.server }}", "eu")]);
    let shapes = shapes(&commands);
    assert!(
        shapes.contains(&"validate --strict --format github".to_owned()),
        "{shapes:#?}"
    );
    assert!(
        shapes.contains(&"plan --env-file --format github --out".to_owned()),
        "{shapes:#?}"
    );
    assert!(
        shapes.contains(&"show --format markdown".to_owned()),
        "{shapes:#?}"
    );
    assert!(
        shapes.contains(&"apply --plan --env-file --format github".to_owned()),
        "{shapes:#?}"
    );
    assert!(
        shapes.contains(&"plan --env-file --format github --detailed-exitcode".to_owned()),
        "{shapes:#?}"
    );
}

#[test]
fn the_gitlab_pipeline_reports_code_quality_plans_applies_the_saved_plan_and_checks_drift() {
    let pipeline = pipeline("gitlab-ci.yml");
    for job in ["validate", "plan", "apply", "drift"] {
        assert!(pipeline[job]["script"].is_array(), "job {job}");
    }
    assert_eq!(
        pipeline["validate"]["artifacts"]["reports"]["codequality"],
        "gl-code-quality-report.json"
    );
    assert_eq!(pipeline["validate"]["artifacts"]["when"], "always");
    let manifests = pipeline["variables"]["MANIFESTS"].as_str().unwrap();
    assert!(examples_ci().join(manifests).is_dir(), "{manifests}");

    let commands = check_commands("gitlab-ci.yml", &[("$MANIFESTS", manifests)]);
    let shapes = shapes(&commands);
    for expected in [
        "validate --strict --format gitlab",
        "plan --out",
        "show --format markdown",
        "apply --plan",
        "plan --detailed-exitcode",
    ] {
        assert!(
            shapes.contains(&expected.to_owned()),
            "{expected}: {shapes:#?}"
        );
    }
}

#[test]
fn the_pipelines_validate_lines_pass_on_the_example_fleet() {
    for (name, values) in [
        ("github-actions.yml", vec![("${{ matrix.server }}", "eu")]),
        ("gitlab-ci.yml", vec![("$MANIFESTS", "fleet/eu")]),
    ] {
        let validates: Vec<Vec<String>> = scripts(&pipeline(name))
            .iter()
            .flat_map(|script| vboctl_commands(script))
            .filter(|words| words[0] == "validate")
            .map(|words| words.iter().map(|w| substitute(w, &values)).collect())
            .collect();
        assert!(!validates.is_empty(), "{name}");
        for words in validates {
            let output = vboctl()
                .current_dir(examples_ci())
                .args(&words)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{name}: `vboctl {}` fails on the example fleet:\n{}",
                words.join(" "),
                String::from_utf8_lossy(&output.stdout)
            );
        }
    }
}
