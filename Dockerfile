# vboctl in a container, made for `vboctl agent` (any other command runs too).
#
#   docker build -t vboctl .
#   docker run --rm vboctl --version
#
# The build stage compiles with the locked dependencies; the final image holds the binary,
# git and ssh (local and ssh repositories go through them, as with git itself) and the CA
# certificates, and runs as an unprivileged user.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p vboctl \
 && strip target/release/vboctl

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git openssh-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/vboctl --create-home \
      --shell /usr/sbin/nologin vboctl
COPY --from=build /src/target/release/vboctl /usr/local/bin/vboctl
USER 10001:10001
WORKDIR /var/lib/vboctl
# The agent keeps its clone here; mount a volume to keep it across restarts.
ENV XDG_CACHE_HOME=/var/lib/vboctl/cache \
    VBOCTL_AGENT_LISTEN=0.0.0.0:9464
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/vboctl"]
CMD ["agent"]
