# Gates and chores. Nothing here is needed to build or test: `cargo` alone does that.

# Run every gate CI runs.
ci: fmt-check clippy test

fmt-check:
    cargo fmt --all -- --check

clippy:
    cargo clippy --workspace --all-targets -- -D warnings

test:
    cargo test --workspace
