//! The git side: start-up errors, the cache folder, new commits and rewritten history.

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;
use vbo_agent::{Agent, AgentError, GitError, Mode, Outcome, RepositoryUrl};

use crate::support::{Repo, World, git, on_premises};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_that_does_not_exist_stops_the_start() {
    let world = World::start().await;
    world
        .repo
        .write("tenants/a.yaml", &on_premises("a.example.com", "m"));
    world.repo.commit("add a");
    let mut config = world.config(Mode::Plan);
    config.branch = "production".to_owned();
    match Agent::start(config).await {
        Err(AgentError::Git(GitError::NoBranch { branch, .. })) => assert_eq!(branch, "production"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_that_cannot_be_reached_stops_the_start() {
    let world = World::start().await;
    let mut config = world.config(Mode::Plan);
    config.repository =
        RepositoryUrl::parse("file:///nonexistent/vboctl-agent-repo", None).unwrap();
    match Agent::start(config).await {
        Err(AgentError::Git(GitError::Fetch { repository, .. })) => {
            assert_eq!(repository, "file:///nonexistent/vboctl-agent-repo");
        }
        other => panic!("{other:?}"),
    }
    // The mistyped repository never fetched anything: the cache is free for the right one.
    world.add_a();
    world.agent(Mode::Plan).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_is_reused_and_never_shared_with_another_repository() {
    let world = World::start().await;
    world
        .repo
        .write("tenants/a.yaml", &on_premises("a.example.com", "m"));
    let first = world.repo.commit("add a");
    let run = CancellationToken::new();
    let mut agent = world.agent(Mode::Plan).await;
    assert_eq!(
        agent.cycle(&run).await.commit.as_deref(),
        Some(first.as_str())
    );
    drop(agent);

    // A restart finds the clone and fetches only what is new.
    world
        .repo
        .write("tenants/b.yaml", &on_premises("b.example.com", "m"));
    let second = world.repo.commit("add b");
    let mut agent = world.agent(Mode::Plan).await;
    let report = agent.cycle(&run).await;
    assert_eq!(report.commit.as_deref(), Some(second.as_str()));
    assert_eq!(report.plan.unwrap().create, 2);
    // Only the files of the current commit are kept.
    let checkouts: Vec<PathBuf> = std::fs::read_dir(world.cache.path().join("checkouts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        checkouts,
        [world.cache.path().join("checkouts").join(&second)]
    );

    let other = Repo::new();
    other.write("tenants/c.yaml", &on_premises("c.example.com", "m"));
    other.commit("add c");
    let mut config = world.config(Mode::Plan);
    config.repository = RepositoryUrl::parse(&other.path().display().to_string(), None).unwrap();
    match Agent::start(config).await {
        Err(AgentError::Git(GitError::CacheOfAnotherRepository { .. })) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewritten_history_is_followed() {
    let world = World::start().await;
    world
        .repo
        .write("tenants/a.yaml", &on_premises("a.example.com", "m"));
    world.repo.commit("add a");
    world
        .repo
        .write("tenants/b.yaml", &on_premises("b.example.com", "m"));
    world.repo.commit("add b");
    let mut agent = world.agent(Mode::Plan).await;
    let run = CancellationToken::new();
    assert_eq!(agent.cycle(&run).await.plan.unwrap().create, 2);

    git(world.repo.path(), &["reset", "-q", "--hard", "HEAD~1"]);
    world
        .repo
        .write("tenants/c.yaml", &on_premises("c.example.com", "m"));
    let rewritten = world.repo.commit("add c instead");
    let report = agent.cycle(&run).await;
    assert_eq!(report.commit.as_deref(), Some(rewritten.as_str()));
    let names: Vec<&str> = report.changes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a.example.com", "c.example.com"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_without_the_manifests_path_is_invalid() {
    let world = World::start().await;
    world
        .repo
        .write("elsewhere/a.yaml", &on_premises("a.example.com", "m"));
    world.repo.commit("manifests in the wrong folder");
    let mut agent = world.agent(Mode::Apply).await;
    let report = agent.cycle(&CancellationToken::new()).await;
    assert_eq!(report.outcome, Outcome::Invalid);
    assert!(report.error.unwrap().contains("tenants"));
    assert!(world.names().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_manifests_path_is_read() {
    let world = World::start().await;
    world
        .repo
        .write("tenants/a.yaml", &on_premises("a.example.com", "m"));
    // Not a manifest: outside the path, it is never read.
    world
        .repo
        .write(".github/workflows/ci.yaml", "on: push\njobs: {}\n");
    world.repo.write("README.md", "# tenants\n");
    world.repo.commit("add a");
    let mut agent = world.agent(Mode::Plan).await;
    let report = agent.cycle(&CancellationToken::new()).await;
    assert_eq!(report.outcome, Outcome::Success, "{:?}", report.error);
    assert_eq!(report.plan.unwrap().create, 1);
}
