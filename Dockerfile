# Authly in a FROM-scratch image: the compiled `authly` executable plus exactly the files it needs
# at run time (scripts/rootfs-files.sh: the libraries `ldd` lists and the dynamic loader, CA
# certificates, a non-root user, a writable data folder). test/docker-rootfs.test.ts runs the same
# file set under chroot. No `# syntax=` line: nothing here needs a newer Dockerfile frontend, and
# with BuildKit that line makes every build pull the frontend image from Docker Hub.
#
# Built beforehand (no network, nothing pulled; what CI builds and runs): Dockerfile.prebuilt.
#
#   docker build -t authly .
#   docker run --rm -p 8000:8000 -v authly-data:/data authly serve --embedded
#   docker run --rm -p 8000:8000 -e DATABASE_URL=postgresql://... -e JWT_SECRET_KEY=... \
#     -e JWT_REFRESH_SECRET_KEY=... -e AUTHLY_ISSUER=https://auth.example.com authly serve --migrate --workers 4

ARG BUN_VERSION=1.4.5

# ---- build: compile the binary for this platform and assemble the runtime root folder ----------
FROM oven/bun:${BUN_VERSION} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json bun.lock ./
# patchedDependencies (postgres.js fixes, see patches/) are applied by the install.
COPY patches ./patches
RUN bun install --frozen-lockfile
COPY . .
RUN bun run build \
 && bin="$(bun -e 'console.log((await import("./build.ts")).binaryPath())')" \
 && scripts/rootfs-files.sh list "$bin" \
 && scripts/rootfs-files.sh context "$bin" /image

# ---- runtime: nothing but the file set -----------------------------------------------------------
FROM scratch
COPY --from=build /image/root/ /
# The embedded engine's data folder belongs to the non-root user: copied as an entry of app-owned/
# so that --chown applies to the folder itself (a named volume starts with its owner and mode).
COPY --from=build --chown=10001:10001 /image/app-owned/ /
ENV HOME=/data AUTHLY_DATA_DIR=/data AUTHLY_HOST=0.0.0.0 AUTHLY_PORT=8000
USER 10001:10001
WORKDIR /data
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["/usr/local/bin/authly", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/authly"]
CMD ["serve"]
