# keycard container image: `make image` (or `docker build -t keycard:VERSION .`).
# The build stage compiles re2 (native, node-gyp), generates the protobuf descriptor set and
# builds dist/ with the same `make build` developers run; the runtime stage carries dist/ and
# the production dependencies only, and runs as an unprivileged user.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# re2 has no prebuilt binary for every platform: node-gyp compiles it with python3, make and g++.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# Build native addons against the headers this Node image ships; no header download.
ENV npm_config_nodedir=/usr/local
WORKDIR /src
COPY package.json package-lock.json ./
# `npm install` with the lock file, as the Makefile does: `npm ci` insists on buf's optional
# binaries for other platforms, which some registries (mirrors) do not serve.
RUN npm install --no-audit --no-fund
COPY Makefile tsconfig.json tsconfig.client.json ./
COPY proto/ proto/
COPY scripts/ scripts/
COPY src/ src/
RUN make build \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="keycard" \
      org.opencontainers.image.description="External authorization service for Envoy" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    KEYCARD_CONFIG=/etc/keycard/keycard.yaml
WORKDIR /app
# Owned by root and read-only for the runtime user; package.json says "type": "module".
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules/ node_modules/
COPY --from=build /src/dist/ dist/
# The image's `node` user, by number so that Kubernetes can verify runAsNonRoot.
USER 1000:1000
# 9001 gRPC ext_authz, 9002 HTTP check mode, 9090 admin (/metrics, /healthz, /readyz).
EXPOSE 9001 9002 9090
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9090/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli.js", "serve"]
CMD ["--config", "/etc/keycard/keycard.yaml"]
