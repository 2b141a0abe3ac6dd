# syntax=docker/dockerfile:1
#
# uc-emulator: `docker compose up`, or
#   docker build -t uc-emulator . && docker run -p 127.0.0.1:8080:8080 -v uc-data:/data uc-emulator
# Serves on 0.0.0.0:8080 inside the container with the SQLite database in the volume /data
# (publish it on 127.0.0.1 unless others should reach it: the built-in tokens are well known). A new database gets the
# built-in fixture (tokens dapi-admin, dapi-alice); pass UC_EMULATOR_FIXTURES (comma-separated
# paths inside the container, e.g. mounted under /fixtures) to use your own.

ARG RUST_VERSION=1
ARG DEBIAN_RELEASE=bookworm

# ---- build ------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
# Only what the binary is built from (.cargo/config.toml sets SQLite's build flags; the crate
# embeds schema.sql and fixtures/default.json).
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
COPY schema.sql ./schema.sql
COPY fixtures ./fixtures
COPY src ./src
# The registry and target directory are BuildKit caches, so a source change does not
# rebuild every dependency; the binary is copied out of the cache mount.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin uc-emulator \
 && install -m 0755 target/release/uc-emulator /usr/local/bin/uc-emulator

# ---- runtime ----------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# ca-certificates: Partner Connect calls partners over HTTPS. The health check is the binary's own
# `uc-emulator healthcheck`, so no curl.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 uc \
 && useradd --system --uid 10001 --gid uc --home-dir /data --no-create-home uc \
 && mkdir -p /data \
 && chown uc:uc /data
COPY --from=build /usr/local/bin/uc-emulator /usr/local/bin/uc-emulator

ENV UC_EMULATOR_BIND=0.0.0.0:8080 \
    UC_EMULATOR_DB=/data/uc-emulator.db \
    RUST_LOG=info \
    NO_COLOR=1
# A new named volume takes its owner (uc) from this directory.
VOLUME ["/data"]
WORKDIR /data
USER uc:uc
EXPOSE 8080
# The server shuts down cleanly on SIGTERM (docker stop).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["uc-emulator", "healthcheck"]
ENTRYPOINT ["uc-emulator"]
CMD ["serve"]
