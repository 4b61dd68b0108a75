# syntax=docker/dockerfile:1
# Production image: dependencies without dev tools, pg_dump for snapshots, non-root user.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
# pg_dump / pg_restore for the pg_dump snapshot provider; tini as PID 1 forwards signals
# to node and reaps pg_dump children.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY templates ./templates
RUN mkdir -p /app/backups && chown node:node /app/backups
USER node
EXPOSE 3000
# node itself, not npm: npm does not forward SIGTERM, so node was orphaned and SIGKILLed
# mid-work. On SIGTERM the bot finishes the running step within SHUTDOWN_GRACE_SECONDS
# (default 25, below Kubernetes' 30 s) and exits 0. Same entry as `npm start`; pass
# `--role app` or `--role worker` to run one part.
ENTRYPOINT ["tini", "--", "node", "--import", "tsx", "src/main.ts"]
CMD ["--role", "all"]
