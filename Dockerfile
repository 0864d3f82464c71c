# One image per app: docker build --build-arg APP=worker -t multisession-worker .
# (APP=demo-api for the API). Built with the repo's pinned pnpm; runs the
# app's compiled dist/main.js as an unprivileged user, JSON logs.
FROM node:20-bookworm-slim AS build
ARG APP=worker
WORKDIR /repo
COPY . .
RUN npx --yes pnpm@12.4.2 install --frozen-lockfile \
 && npx --yes pnpm@12.4.2 turbo run build \
 && npx --yes pnpm@12.4.2 deploy --filter "./apps/${APP:-worker}" --prod --legacy /out

FROM node:20-bookworm-slim
ARG APP=worker
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out /app
USER node
CMD ["node", "dist/main.js"]
