//! The git side: a bare clone in the cache folder, fetched on every cycle, and the files of
//! the commit to reconcile written out next to it.
//!
//! Transports are gix's own: local paths and `file://` (through `git upload-pack`, as git
//! itself does), `ssh://` and `user@host:path` (through the `ssh` program, with its keys and
//! `~/.ssh/config`), and `https://` (through the workspace's reqwest and rustls).
//!
//! Credentials for https: a token from `VBOCTL_GIT_TOKEN` (read by the binary), or a user and
//! password written in the URL. Either way they are taken out of the URL before gix sees it and
//! handed over only when the server asks, so that no error message, log line, status or
//! metric can show them, and nothing is written to the clone's configuration.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use gix::bstr::ByteSlice;
use tokio_util::sync::CancellationToken;
use vbo_model::Secret;

use crate::error::GitError;

/// The user name sent with a token when the URL names none. GitHub, GitLab, Gitea and Azure
/// DevOps accept any name with a token; Bitbucket wants the account's, given in the URL.
pub const TOKEN_USER: &str = "x-access-token";

/// A repository to follow: where it is, and the credentials to reach it, kept apart.
#[derive(Clone)]
pub struct RepositoryUrl {
    /// The URL gix connects to, without user or password for http(s).
    url: gix::Url,
    /// The user and token or password for http(s), if any.
    credentials: Option<(String, Secret)>,
    /// How the repository is shown: never with a password or token.
    shown: String,
}

impl RepositoryUrl {
    /// Reads `text`: a URL git understands (`https://`, `ssh://`, `user@host:path`,
    /// `file://`) or the path of a local repository (made absolute). `token`, when given, is
    /// the password sent over https, with the URL's user name or [`TOKEN_USER`].
    pub fn parse(text: &str, token: Option<Secret>) -> Result<Self, GitError> {
        let token = token.filter(|t| !t.expose().is_empty());
        let local = Path::new(text);
        let mut url = if !text.contains("://") && local.exists() {
            let absolute = local.canonicalize().map_err(|e| GitError::InvalidUrl {
                repository: text.to_owned(),
                message: e.to_string(),
            })?;
            gix::url::parse(absolute.as_os_str().as_encoded_bytes().as_bstr())
        } else {
            gix::url::parse(text.as_bytes().as_bstr())
        }
        .map_err(|_| GitError::InvalidUrl {
            repository: without_userinfo(text),
            message: "expected https://, ssh://, user@host:path, file:// or an existing folder"
                .to_owned(),
        })?;
        let http = matches!(url.scheme, gix::url::Scheme::Http | gix::url::Scheme::Https);
        let mut credentials = None;
        if http {
            let user = url.set_user(None);
            let password = url.set_password(None).map(Secret::new);
            credentials = match (user, password.or(token)) {
                (user, Some(secret)) => {
                    Some((user.unwrap_or_else(|| TOKEN_USER.to_owned()), secret))
                }
                // A user alone may be a token written as the user (`https://TOKEN@host`).
                (Some(user), None) => Some((user, Secret::new(""))),
                (None, None) => None,
            };
        }
        let shown = url.to_bstring().to_string();
        Ok(Self {
            url,
            credentials,
            shown,
        })
    }

    /// Whether credentials will be offered when the server asks (https only).
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// Whether the repository is on this machine (a path or `file://`).
    pub fn is_local(&self) -> bool {
        self.url.scheme == gix::url::Scheme::File
    }

    /// Replaces every credential in `text` (an error message from a transport, say) by
    /// `****`.
    fn redact(&self, text: &str) -> String {
        match &self.credentials {
            // A user without a password is a token written as the user.
            Some((user, secret)) if secret.expose().is_empty() && !user.is_empty() => {
                text.replace(user, "****")
            }
            Some((_, secret)) if !secret.expose().is_empty() => {
                text.replace(secret.expose(), "****")
            }
            _ => text.to_owned(),
        }
    }
}

impl fmt::Display for RepositoryUrl {
    /// The repository without any password or token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for RepositoryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RepositoryUrl")
            .field("url", &self.shown)
            .field("credentials", &self.credentials.as_ref().map(|_| "****"))
            .finish()
    }
}

/// `text` with whatever stands between `://` and `@` replaced by `****`, for a URL that could
/// not be read.
fn without_userinfo(text: &str) -> String {
    let Some(start) = text.find("://").map(|i| i + 3) else {
        return text.to_owned();
    };
    let authority_end = text[start..].find('/').map_or(text.len(), |i| start + i);
    match text[start..authority_end].rfind('@') {
        Some(at) => format!("{}****{}", &text[..start], &text[start + at..]),
        None => text.to_owned(),
    }
}

/// A bare clone of one branch of a repository in the cache folder, and the files of the
/// commits read from it.
#[derive(Debug)]
pub struct GitSource {
    repository: RepositoryUrl,
    branch: String,
    git_dir: PathBuf,
    checkouts: PathBuf,
}

/// The file in the cache folder that says which repository its clone comes from.
const ORIGIN_FILE: &str = "origin";

impl GitSource {
    /// Uses `cache` for a bare clone of `repository` (created empty the first time; the first
    /// [`fetch`](Self::fetch) fills it). Refuses a cache folder that holds a clone of another
    /// repository.
    pub async fn open(
        repository: RepositoryUrl,
        branch: String,
        cache: PathBuf,
    ) -> Result<Self, GitError> {
        let full = format!("refs/heads/{branch}");
        if gix::refs::FullName::try_from(full.as_str()).is_err() || branch.is_empty() {
            return Err(GitError::NoBranch {
                repository: repository.to_string(),
                branch,
            });
        }
        let git_dir = cache.join("repo.git");
        let checkouts = cache.join("checkouts");
        let source = Self {
            repository,
            branch,
            git_dir,
            checkouts,
        };
        let shown = source.repository.to_string();
        let git_dir = source.git_dir.clone();
        let checkouts = source.checkouts.clone();
        blocking(move || {
            let cache_error = |message: String| GitError::Cache {
                path: cache.clone(),
                message,
            };
            std::fs::create_dir_all(&checkouts).map_err(|e| cache_error(e.to_string()))?;
            let origin = cache.join(ORIGIN_FILE);
            match std::fs::read_to_string(&origin) {
                // A clone that never fetched anything (a mistyped URL, say) is no one's yet.
                Ok(found) if found.trim() != shown && !is_empty(&git_dir) => {
                    return Err(GitError::CacheOfAnotherRepository {
                        path: cache.clone(),
                        found: found.trim().to_owned(),
                        repository: shown,
                    });
                }
                Ok(found) if found.trim() == shown => {}
                Ok(_) => std::fs::write(&origin, format!("{shown}\n"))
                    .map_err(|e| cache_error(e.to_string()))?,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    std::fs::write(&origin, format!("{shown}\n"))
                        .map_err(|e| cache_error(e.to_string()))?;
                }
                Err(error) => return Err(cache_error(error.to_string())),
            }
            if git_dir.join("HEAD").exists() {
                gix::open(&git_dir).map_err(|e| cache_error(e.to_string()))?;
            } else {
                gix::init_bare(&git_dir).map_err(|e| cache_error(e.to_string()))?;
            }
            Ok(())
        })
        .await?;
        Ok(source)
    }

    /// The repository, as it is shown.
    pub fn repository(&self) -> &RepositoryUrl {
        &self.repository
    }

    /// Fetches the branch and returns its commit (40 hex digits). `cancel` interrupts the
    /// transfer.
    pub async fn fetch(&self, cancel: &CancellationToken) -> Result<String, GitError> {
        let interrupt = Arc::new(AtomicBool::new(false));
        let watcher = {
            let interrupt = Arc::clone(&interrupt);
            let cancel = cancel.clone();
            tokio::spawn(async move {
                cancel.cancelled().await;
                interrupt.store(true, Ordering::SeqCst);
            })
        };
        let repository = self.repository.clone();
        let branch = self.branch.clone();
        let git_dir = self.git_dir.clone();
        let flag = Arc::clone(&interrupt);
        let result = blocking(move || fetch(&repository, &branch, &git_dir, &flag)).await;
        watcher.abort();
        match result {
            Err(GitError::Fetch { .. }) if interrupt.load(Ordering::SeqCst) => {
                Err(GitError::Interrupted {
                    repository: self.repository.to_string(),
                })
            }
            other => other,
        }
    }

    /// Writes the files of `commit` under `path` (a folder or a file of the repository; empty
    /// or `.` for all of it) to the cache folder, unless they are there already, removes the
    /// files of older commits, and returns where `path` now is on disk. Symbolic links and
    /// submodules are skipped.
    pub async fn checkout(&self, commit: &str, path: &Path) -> Result<PathBuf, GitError> {
        let inside = relative(path).ok_or_else(|| GitError::NoPath {
            commit: commit.to_owned(),
            path: path.to_owned(),
        })?;
        let git_dir = self.git_dir.clone();
        let checkouts = self.checkouts.clone();
        let commit = commit.to_owned();
        blocking(move || {
            let root = checkouts.join(&commit);
            if !root.exists() {
                let partial = checkouts.join(format!(".{commit}.partial"));
                let _ = std::fs::remove_dir_all(&partial);
                write_commit(&git_dir, &commit, &inside, &partial)?;
                std::fs::rename(&partial, &root).map_err(|source| GitError::Write {
                    commit: commit.clone(),
                    path: root.clone(),
                    source,
                })?;
            }
            remove_others(&checkouts, &commit);
            Ok(root.join(inside))
        })
        .await
    }

    /// The folder the files of `commit` are written to: paths under it are the repository's.
    pub fn checkout_root(&self, commit: &str) -> PathBuf {
        self.checkouts.join(commit)
    }
}

/// Whether the clone at `git_dir` has no reference at all (it never fetched), or is not there.
fn is_empty(git_dir: &Path) -> bool {
    let Ok(repo) = gix::open(git_dir) else {
        return true;
    };
    repo.references()
        .ok()
        .and_then(|references| references.all().ok().map(|mut all| all.next().is_none()))
        .unwrap_or(true)
}

/// Runs blocking git work off the async runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, GitError> + Send + 'static,
) -> Result<T, GitError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|error| {
            Err(GitError::Cache {
                path: PathBuf::new(),
                message: format!("the git task failed: {error}"),
            })
        })
}

fn fetch(
    repository: &RepositoryUrl,
    branch: &str,
    git_dir: &Path,
    interrupt: &AtomicBool,
) -> Result<String, GitError> {
    let failed = |error: &dyn fmt::Display| GitError::Fetch {
        repository: repository.to_string(),
        message: repository.redact(&error.to_string()),
    };
    let repo = gix::open(git_dir).map_err(|e| GitError::Cache {
        path: git_dir.to_owned(),
        message: e.to_string(),
    })?;
    let wanted = format!("refs/heads/{branch}");
    let refspec = format!("+{wanted}:refs/remotes/origin/{branch}");
    let remote = repo
        .remote_at(repository.url.clone())
        .and_then(|remote| remote.with_refspecs([refspec.as_str()], gix::remote::Direction::Fetch))
        .map_err(|e| failed(&e))?
        .with_fetch_tags(gix::remote::fetch::Tags::None);
    let mut connection = remote
        .connect(gix::remote::Direction::Fetch)
        .map_err(|e| failed(&e))?;
    let credentials = repository.credentials.clone();
    connection.set_credentials(move |action| match (action, &credentials) {
        (gix::credentials::helper::Action::Get(context), Some((user, secret))) => {
            Ok(Some(gix::credentials::protocol::Outcome {
                identity: gix::sec::identity::Account {
                    username: user.clone(),
                    password: secret.expose().to_owned(),
                    oauth_refresh_token: None,
                },
                next: context.into(),
            }))
        }
        // Nothing to offer (and never a prompt: the agent runs unattended).
        _ => Ok(None),
    });
    let prepared = connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(|e| failed(&e))?;
    let commit = prepared
        .ref_map()
        .mappings
        .iter()
        .filter(|mapping| {
            mapping
                .remote
                .as_name()
                .is_some_and(|name| name == wanted.as_bytes())
        })
        .find_map(|mapping| mapping.remote.as_id())
        .map(|id| id.to_hex().to_string())
        .ok_or_else(|| GitError::NoBranch {
            repository: repository.to_string(),
            branch: branch.to_owned(),
        })?;
    prepared
        .receive(gix::progress::Discard, interrupt)
        .map_err(|e| failed(&e))?;
    Ok(commit)
}

/// The normal components of `path`, or `None` when it leaves the repository (absolute, `..`).
fn relative(path: &Path) -> Option<PathBuf> {
    let mut inside = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => inside.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(inside)
}

fn write_commit(git_dir: &Path, commit: &str, inside: &Path, to: &Path) -> Result<(), GitError> {
    let read = |error: &dyn fmt::Display| GitError::Read {
        commit: commit.to_owned(),
        message: error.to_string(),
    };
    let repo = gix::open(git_dir).map_err(|e| read(&e))?;
    let id = gix::ObjectId::from_hex(commit.as_bytes()).map_err(|e| read(&e))?;
    let tree = repo
        .find_commit(id)
        .and_then(|commit| commit.tree())
        .map_err(|e| read(&e))?;
    let writer = Writer {
        repo: &repo,
        commit,
    };
    std::fs::create_dir_all(to).map_err(|source| writer.write_error(to, source))?;
    if inside.as_os_str().is_empty() {
        return writer.tree(tree.id, to);
    }
    let entry = tree
        .lookup_entry_by_path(inside)
        .map_err(|e| read(&e))?
        .ok_or_else(|| GitError::NoPath {
            commit: commit.to_owned(),
            path: inside.to_owned(),
        })?;
    let target = to.join(inside);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|source| writer.write_error(parent, source))?;
    }
    let mode = entry.mode();
    if mode.is_tree() {
        writer.tree(entry.object_id(), &target)
    } else if mode.is_blob() {
        writer.blob(entry.object_id(), &target)
    } else {
        Err(GitError::NoPath {
            commit: commit.to_owned(),
            path: inside.to_owned(),
        })
    }
}

/// Writes trees and blobs of one commit to disk.
struct Writer<'a> {
    repo: &'a gix::Repository,
    commit: &'a str,
}

impl Writer<'_> {
    fn read_error(&self, error: &dyn fmt::Display) -> GitError {
        GitError::Read {
            commit: self.commit.to_owned(),
            message: error.to_string(),
        }
    }

    fn write_error(&self, path: &Path, source: std::io::Error) -> GitError {
        GitError::Write {
            commit: self.commit.to_owned(),
            path: path.to_owned(),
            source,
        }
    }

    fn tree(&self, id: gix::ObjectId, dir: &Path) -> Result<(), GitError> {
        std::fs::create_dir_all(dir).map_err(|source| self.write_error(dir, source))?;
        let tree = self.repo.find_tree(id).map_err(|e| self.read_error(&e))?;
        for entry in tree.iter() {
            let entry = entry.map_err(|e| self.read_error(&e))?;
            let Some(name) = safe_name(entry.filename()) else {
                tracing::debug!(name = %entry.filename(), "skipped an entry with an unsafe name");
                continue;
            };
            let mode = entry.mode();
            let path = dir.join(name);
            if mode.is_tree() {
                self.tree(entry.object_id(), &path)?;
            } else if mode.is_blob() {
                self.blob(entry.object_id(), &path)?;
            } else {
                tracing::debug!(path = %path.display(), "skipped a symbolic link or submodule");
            }
        }
        Ok(())
    }

    fn blob(&self, id: gix::ObjectId, path: &Path) -> Result<(), GitError> {
        let blob = self.repo.find_blob(id).map_err(|e| self.read_error(&e))?;
        std::fs::write(path, &blob.data).map_err(|source| self.write_error(path, source))
    }
}

/// A tree entry's name, unless it could step out of its folder or into git's own.
fn safe_name(name: &gix::bstr::BStr) -> Option<String> {
    let name = name.to_str().ok()?;
    let unsafe_name = name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\', '\0'])
        || name.eq_ignore_ascii_case(".git");
    (!unsafe_name).then(|| name.to_owned())
}

/// Removes the files of every commit but `keep` (best effort: a failure only leaves files).
fn remove_others(checkouts: &Path, keep: &str) {
    let Ok(entries) = std::fs::read_dir(checkouts) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name() != keep {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url_and_never_show() {
        let url = RepositoryUrl::parse(
            "https://deploy:Tok3n-Value-77@git.example.com/org/tenants.git",
            None,
        )
        .unwrap();
        assert_eq!(url.to_string(), "https://git.example.com/org/tenants.git");
        assert!(!format!("{url:?}").contains("Tok3n"));
        assert!(url.has_credentials());
        assert_eq!(
            url.redact("401 for deploy:Tok3n-Value-77"),
            "401 for deploy:****"
        );
    }

    #[test]
    fn a_token_from_the_environment_goes_with_the_default_user() {
        let url = RepositoryUrl::parse(
            "https://git.example.com/org/tenants.git",
            Some(Secret::new("Env-Token-31")),
        )
        .unwrap();
        let (user, secret) = url.credentials.clone().unwrap();
        assert_eq!(user, TOKEN_USER);
        assert_eq!(secret.expose(), "Env-Token-31");
        assert_eq!(url.to_string(), "https://git.example.com/org/tenants.git");
    }

    #[test]
    fn a_token_written_as_the_user_is_hidden_too() {
        let url = RepositoryUrl::parse("https://ghp_Secret42@github.com/o/r.git", None).unwrap();
        assert_eq!(url.to_string(), "https://github.com/o/r.git");
    }

    #[test]
    fn ssh_keeps_its_user_and_ignores_a_token() {
        let url =
            RepositoryUrl::parse("git@github.com:org/tenants.git", Some(Secret::new("t"))).unwrap();
        assert!(!url.has_credentials());
        assert!(url.to_string().contains("git@github.com"), "{url}");
    }

    #[test]
    fn an_unreadable_url_is_shown_without_its_userinfo() {
        assert_eq!(
            without_userinfo("https://u:Secret-9@host/x"),
            "https://****@host/x"
        );
        assert_eq!(without_userinfo("/no/scheme"), "/no/scheme");
    }

    #[test]
    fn paths_stay_inside_the_repository() {
        assert_eq!(relative(Path::new("./tenants/")), Some("tenants".into()));
        assert_eq!(relative(Path::new(".")), Some(PathBuf::new()));
        assert_eq!(relative(Path::new("../etc")), None);
        assert_eq!(relative(Path::new("/etc")), None);
        assert_eq!(safe_name("..".into()), None);
        assert_eq!(safe_name(".GIT".into()), None);
        assert_eq!(safe_name("a.yaml".into()), Some("a.yaml".to_owned()));
    }
}
