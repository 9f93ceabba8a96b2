# Production image: the API and the OCR worker run from the same image (ARCHIVE_ROLE picks).
# The web UI is built in its own stage (Vite and the UI libraries are dev dependencies) and only
# its bundled files (web/dist) are copied into the image.
FROM node:20-bookworm-slim AS web
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./web
COPY scripts/build-web.sh ./scripts/
RUN bash scripts/build-web.sh --force

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-zenhei ca-certificates curl \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.js ./scripts/build.js
COPY bin ./bin
COPY src ./src
COPY ocr ./ocr
COPY storage ./storage
COPY retention-rules ./retention-rules
COPY render ./render
COPY --from=web /app/web/dist ./web/dist
# Compiled JavaScript in dist/ (bin/archive.js runs it; the type packages are dropped after).
RUN node scripts/build.js --force && npm prune --omit=dev --no-audit --no-fund
# The commands run bin/archive.js as a program: its first line sets glibc's malloc and V8's heap
# (see there). The malloc settings here as well, for an operator's `node bin/archive.js …`.
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=1048576
USER node
EXPOSE 8080
CMD ["bin/archive.js", "serve"]
