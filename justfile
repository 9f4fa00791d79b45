# Gates and chores. Nothing here is needed to build or test: `cargo` alone does that.

# Run every gate CI runs.
ci: fmt-check clippy test editor-test

fmt-check:
    cargo fmt --all -- --check

clippy:
    cargo clippy --workspace --all-targets -- -D warnings

test:
    cargo test --workspace

# The schema in the real YAML language server (needs Node.js 20 or newer with npm).
editor-test:
    bash tests/editor/run

# Regenerate the committed JSON Schemas and the field reference from the Rust types.
schema:
    cargo run -q -p vboctl -- schema --out schemas/organization.schema.json
    cargo run -q -p vboctl -- schema --format markdown --out docs/manifest.md
    cargo run -q -p vboctl -- schema plan --out schemas/plan.schema.json

# The whole loop against an embedded emulator.
demo:
    cargo run --release -p vboctl -- demo

# Time validate, plan and apply at scale, beside bench/baseline.sh (see docs/benchmarks.md).
bench:
    cargo build --release -p vboctl -p vboctl-bench
    target/release/vboctl-bench --runs 5
