# One image for the worker, the API and the reference firmware server (pick with the command).
# Stage 1 bundles the workflows, which needs the full install (the bundler's native @swc/core binding is an optional
# dependency); stage 2 is the production install: no dev dependencies (no embedded-postgres: point DATABASE_URL at
# a PostgreSQL), no optional ones (no Node binary from npm: the base image has Node 24), plus the prebuilt bundle.
# test/temporal/dockerfile.test.ts replays these steps in clean folders with the same commands.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build-workflow-bundle.ts /app/workflow-bundle.js

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund
COPY . .
COPY --from=build /app/workflow-bundle.js /app/workflow-bundle.js
ENV WORKFLOW_BUNDLE_PATH=/app/workflow-bundle.js \
    DATA_DIR=/data
VOLUME ["/data"]
# Workers drain for WORKER_SHUTDOWN_GRACE_MS (300 s), the API for API_SHUTDOWN_GRACE_MS (130 s): give them that
# long before SIGKILL (docker-compose.yml sets stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["node", "worker/main.ts"]
