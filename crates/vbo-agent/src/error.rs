//! Why the agent could not start, and why git could not deliver a commit.

use std::path::PathBuf;

/// Why the agent could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The repository could not be cloned, fetched or read.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The address for the HTTP endpoints could not be listened on.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address asked for.
        address: String,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// Why git could not deliver the manifests of a commit. Messages name the repository without
/// the credentials of its URL, and never hold a token.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The repository is neither a URL git understands nor an existing folder.
    #[error("{repository:?} is not a git URL or an existing folder: {message}")]
    InvalidUrl {
        /// What was given, without credentials.
        repository: String,
        /// What is wrong with it.
        message: String,
    },
    /// The cache folder could not be created or its clone could not be opened.
    #[error("cannot use the cache folder {}: {message}", path.display())]
    Cache {
        /// The folder.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The cache folder holds a clone of another repository.
    #[error(
        "the cache folder {} holds a clone of {found}, not of {repository}",
        path.display()
    )]
    CacheOfAnotherRepository {
        /// The folder.
        path: PathBuf,
        /// The repository its clone comes from.
        found: String,
        /// The repository asked for.
        repository: String,
    },
    /// Fetching failed: the repository is unreachable, refused the credentials, or the
    /// transfer broke.
    #[error("cannot fetch {repository}: {message}")]
    Fetch {
        /// The repository, without credentials.
        repository: String,
        /// What went wrong.
        message: String,
    },
    /// The fetch was interrupted by a shutdown.
    #[error("the fetch of {repository} was interrupted")]
    Interrupted {
        /// The repository, without credentials.
        repository: String,
    },
    /// The repository has no such branch.
    #[error("{repository} has no branch {branch:?}")]
    NoBranch {
        /// The repository, without credentials.
        repository: String,
        /// The branch asked for.
        branch: String,
    },
    /// The commit's content could not be read from the clone.
    #[error("cannot read commit {commit}: {message}")]
    Read {
        /// The commit.
        commit: String,
        /// What went wrong.
        message: String,
    },
    /// The manifests' path does not exist in the commit.
    #[error("commit {commit} has nothing at {}", path.display())]
    NoPath {
        /// The commit.
        commit: String,
        /// The path inside the repository.
        path: PathBuf,
    },
    /// The commit's files could not be written to the cache folder.
    #[error("cannot write the files of commit {commit} to {}: {source}", path.display())]
    Write {
        /// The commit.
        commit: String,
        /// Where.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}
