# syntax=docker/dockerfile:1
# Production image: dependencies without dev tools, pg_dump for snapshots, non-root user.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
# pg_dump / pg_restore for the pg_dump snapshot provider.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
RUN mkdir -p /app/backups && chown node:node /app/backups
USER node
EXPOSE 3000
# Same script as `npm start`; pass `--role app` or `--role worker` to run one part.
ENTRYPOINT ["npm", "start", "--"]
CMD ["--role", "all"]
