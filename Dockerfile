# syntax=docker/dockerfile:1
#
# amfd and amfctl in one image. Stage "build" compiles the TypeScript with the dev dependencies;
# the final stage carries only dist/, the production dependencies and the launchers, and runs
# as an unprivileged user under tini (signals forwarded, zombies reaped: amfd runs component
# scripts). State lives in the /var/lib/amfd volume. See docs/operations.md.
#
#   docker build -t amfd .
#   docker compose -f conf/examples/compose.yaml up
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
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
# The HTTP API (gossip and Raft ports are set in amfd.json; publish them for multi-host clusters).
EXPOSE 8570/tcp
USER amfd
# /ping needs no token. AMFD_API_PORT must match the API port in the config when it is changed.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.AMFD_API_PORT || '8570') + '/ping').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "/opt/amfd/bin/amfd.js", "--config", "/etc/amfd/amfd.json"]
