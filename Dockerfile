# One image for every role: tracker, ingestor, projector, api (and standalone, the default command).
# docker-compose.yml picks the role with `command: ["node", "dist/apps/<role>/src/main.js"]`.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript with the dev dependencies ------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 (the embedded store) compiles from source when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY test/scripts ./test/scripts
RUN npm run build

# ---- runtime: production dependencies only, non-root ---------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# The compilers are needed only while the native addon builds; they leave in the same layer.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && npm ci --omit=dev \
 && npm cache clean --force \
 && apt-get purge -y python3 make g++ \
 && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/dist ./dist
# DATA_DIR holds the embedded SQLite store and generated secrets when no engines are configured.
RUN mkdir -p /data && chown node:node /data
USER node
ENV PORT=3000 HOST=0.0.0.0 DATA_DIR=/data
EXPOSE 3000
VOLUME ["/data"]
# /ready answers 200 only when every configured backend (event store, transport, views) answers.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/apps/standalone/src/main.js"]
