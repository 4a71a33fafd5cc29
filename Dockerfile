# The doltdb-operator image: the workspace packages built to JavaScript, packed as they would be published,
# installed for production and run on distroless Node.js 24 as UID 65532 (no shell, no package manager).
#
#   docker build -t registry.example.com/doltdb-operator:0.1.0 .
#   docker push registry.example.com/doltdb-operator:0.1.0
#   helm install doltdb-operator charts/doltdb-operator \
#     --set image.repository=registry.example.com/doltdb-operator --set image.tag=0.1.0
#
# The root filesystem can be read-only (the chart sets readOnlyRootFilesystem: true): the operator writes no file.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian13:nonroot

# 1. Build: tsc to JavaScript + .d.ts, then one tarball per package (scripts/pack.ts, `npm run pack`).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY packages/core/package.json packages/core/
COPY packages/k8s/package.json packages/k8s/
COPY packages/dolt/package.json packages/dolt/
COPY packages/operator/package.json packages/operator/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY scripts/pack.ts scripts/
COPY packages packages
RUN node scripts/pack.ts --out /packages

# 2. Install the tarballs with their production dependencies only, as a user of the npm packages would.
FROM ${NODE_IMAGE} AS install
WORKDIR /app
COPY --from=build /packages /packages
RUN echo '{"name":"doltdb-operator-image","private":true,"type":"module"}' >package.json \
  && npm install --omit=dev --ignore-scripts --no-audit --no-fund /packages/*.tgz

# 3. Runtime: node and the installed packages; ENTRYPOINT is the operator binary (SIGTERM shuts it down gracefully).
FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=install /app/node_modules /app/node_modules
ENV NODE_ENV=production
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "/app/node_modules/@doltdb-op/operator/bin/doltdb-operator.js"]
