# syntax=docker/dockerfile:1
#
# amfd and amfctl in one image. Stage "build" compiles the TypeScript with the dev dependencies;
# the final stage carries only dist/ (the web console's files in dist/web), the production
# dependencies and the launchers, and runs
# as an unprivileged user under tini (signals forwarded, zombies reaped: amfd runs component
# scripts). State lives in the /var/lib/amfd volume. See docs/operations.md.
#
#   docker build -t amfd .
#   docker compose -f conf/examples/compose.yaml up
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The prepare hook (the web console's build) skips here: the sources come next; npm run build does it.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-web.mjs ./scripts/build-web.mjs
COPY src ./src
COPY simulator ./simulator
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 amfd \
 && useradd --system --uid 10001 --gid amfd --home-dir /var/lib/amfd --shell /usr/sbin/nologin amfd \
 && mkdir -p /var/lib/amfd /etc/amfd \
 && chown amfd:amfd /var/lib/amfd
WORKDIR /opt/amfd
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY conf ./conf
RUN ln -s /opt/amfd/bin/amfd.js /usr/local/bin/amfd \
 && ln -s /opt/amfd/bin/amfctl.js /usr/local/bin/amfctl
VOLUME ["/var/lib/amfd"]
# API, SWIM (UDP and TCP), Raft, cluster RPC (UDP and TCP): the defaults of conf/amfd.json.
EXPOSE 7950/tcp 7946/tcp 7946/udp 7947/tcp 7948/tcp 7948/udp
USER amfd
# /ping needs no token; where the API listens is in the address file amfd writes at start-up.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const a = JSON.parse(require('fs').readFileSync((process.env.AMFD_DATA_DIR || '/var/lib/amfd') + '/amfd.addr.json', 'utf8')); require(a.tls ? 'https' : 'http').get((a.tls ? 'https://' : 'http://') + a.api + '/ping', { rejectUnauthorized: false, timeout: 2000 }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# Configuration: conf/amfd.json (relative to the working directory), then AMFD_* variables, then flags.
# The node flags keep idle memory low (src/daemon/node-flags.ts, docs/operations.md "Memory").
CMD ["node", "--max-semi-space-size=1", "--v8-pool-size=1", "/opt/amfd/bin/amfd.js"]
