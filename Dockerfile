# syntax=docker/dockerfile:1
# migrate-bot production image: compiled JavaScript on Node 24 LTS, pg_dump from PostgreSQL 18's
# client (pg_dump refuses servers newer than itself; the bot checks first and says so), tini as
# PID 1, non-root, a volume for pg_dump snapshots, a HEALTHCHECK on /healthz.
#   docker build -t migrate-bot .
#   docker run --env-file .env -v migrate-bot-snapshots:/var/lib/migrate-bot/snapshots migrate-bot --role app
ARG NODE_IMAGE=node:24-bookworm-slim

# 1. Compile TypeScript (tsc, every dependency).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# 2. Production dependencies only: no tsx, TypeScript, vitest or other devDependencies.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. Runtime.
FROM ${NODE_IMAGE} AS runtime
# PostgreSQL's own apt repository (apt.postgresql.org): Debian bookworm ships pg_dump 15 only.
ARG PG_CLIENT_MAJOR=18
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl tini \
 && install -d /usr/share/postgresql-common/pgdg \
 && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
 && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-${PG_CLIENT_MAJOR} \
 && apt-get purge -y curl && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000 \
    HTTP_PORT=9090 \
    HTTP_BIND=0.0.0.0 \
    SNAPSHOT_DIR=/var/lib/migrate-bot/snapshots
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY templates ./templates
COPY drill ./drill
RUN mkdir -p /var/lib/migrate-bot/snapshots && chown -R node:node /var/lib/migrate-bot
VOLUME ["/var/lib/migrate-bot/snapshots"]
USER node
# 3000: Slack's HTTP requests (POST /slack/events) or the drill console; 9090: /healthz, /readyz, /metrics.
EXPOSE 3000 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||9090)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini forwards SIGTERM to node (npm would not) and reaps pg_dump children. On SIGTERM the bot
# finishes the step in progress within SHUTDOWN_GRACE_SECONDS (default 25, below Kubernetes' 30 s)
# and exits 0. `--role app` or `--role worker` runs one part; `migrate-bot` (bin/) is the CLI.
ENTRYPOINT ["tini", "--", "node", "dist/main/main.js"]
CMD ["--role", "all"]
