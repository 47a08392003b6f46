# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript and build the web page in one stage, run
# the production install on the image's own Node 24 in the other. Data lives in the /data volume.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY server ./server
COPY client ./client
COPY scripts/build-demo.ts ./scripts/build-demo.ts
# The server, and the web page (Vite) next to the compiled client: dist/client/demo/dist is served at /.
RUN npm run build && node scripts/build-demo.ts --out dist/client/demo/dist

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    PORT=1234 \
    HOST=0.0.0.0 \
    DB_PATH=/data/collab.db \
    LOG_FORMAT=json
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/server ./dist/server
COPY --from=build /app/dist/client ./dist/client
COPY --from=build /app/dist/client/demo/dist ./dist/client/demo/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 1234
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 1234) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) shuts down gracefully: sockets closed, writes finished, logs compacted.
STOPSIGNAL SIGTERM
CMD ["node", "dist/server/main.js"]
