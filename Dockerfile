# The demo API's image: docker build -t multisession-demo-api .
# Built with the repo's pinned pnpm; runs the app's compiled dist/main.js as an
# unprivileged user, JSON logs. The worker has an image of its own, built with
# its manifests first and only what it needs: apps/worker/Dockerfile.
FROM node:20-bookworm-slim AS build
ARG APP=demo-api
WORKDIR /repo
COPY . .
RUN npx --yes pnpm@12.4.2 install --frozen-lockfile \
 && npx --yes pnpm@12.4.2 turbo run build \
 && npx --yes pnpm@12.4.2 deploy --filter "./apps/${APP:-demo-api}" --prod --legacy /out

FROM node:20-bookworm-slim
ARG APP=demo-api
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out /app
USER node
CMD ["node", "dist/main.js"]
