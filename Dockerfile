# syntax=docker/dockerfile:1
# Multi-stage build: compile the package (`npm run build`: the same dist/ that `npm pack`
# ships) in one stage, run the production install on the image's own Node 24 in the other.
# Data lives in the /data volume.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY server ./server
COPY client ./client
COPY scripts/build.ts scripts/build-demo.ts ./scripts/
# dist/server, dist/client and the web page served at / (dist/client/demo/dist).
RUN npm run build

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    PORT=1234 \
    HOST=0.0.0.0 \
    DB_PATH=/data/collab.db \
    LOG_FORMAT=json
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 1234
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 1234) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) shuts down gracefully: sockets closed, writes finished, logs compacted.
STOPSIGNAL SIGTERM
# The package's own command (`npx yjs-collab-server`), started with no arguments.
CMD ["node", "dist/server/bin.js"]
