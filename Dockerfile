# One image for the worker, the API and the reference firmware server (pick with the command).
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund
COPY . .
RUN node scripts/build-workflow-bundle.ts /app/workflow-bundle.js
ENV WORKFLOW_BUNDLE_PATH=/app/workflow-bundle.js \
    DATA_DIR=/data
VOLUME ["/data"]
CMD ["node", "worker/main.ts"]
