# syntax=docker/dockerfile:1
# pr-autoscaler's container image: docker build -t pr-autoscaler . (docs/deploy.md).
#
# `build` compiles the TypeScript sources to dist/; `production-deps` installs the runtime
# dependencies alone; the final image holds those, dist/ and the few files the app reads, on
# the official Node.js 24 (LTS) image without its package managers. It runs as a non-root user
# and writes nothing outside /tmp, so it runs with a read-only root filesystem.
# test/deploy/image.test.ts runs what these stages run and what the final image runs.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are skipped: the only one fetches the Node.js binary that development uses,
# and this stage has the image's own Node.js 24.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:24-bookworm-slim AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

FROM node:24-bookworm-slim
# Nothing installs packages at run time: remove the base image's npm, npx, corepack and yarn,
# and the apt and dpkg programs (the dpkg database stays, for image scanners).
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
      /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg \
    && rm -f /usr/bin/apt /usr/bin/apt-* /usr/bin/dpkg /usr/bin/dpkg-*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json app.yml ./
COPY bin ./bin
COPY policies ./policies
# The base image's `node` user, by number: Kubernetes can only verify runAsNonRoot for a
# numeric user.
USER 1000:1000
EXPOSE 3000
# Docker's own health check (Kubernetes uses the Deployment's probes instead). Node's fetch:
# the image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/pr-autoscaler.js"]
# The GitHub App server. `serve`, not `start`: a pod whose APP_ID came out empty must stop
# saying so, not show the demo.
CMD ["serve"]
