# Production image: the API and the OCR worker run from the same image (ARCHIVE_ROLE picks).
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-zenhei ca-certificates curl \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY ocr ./ocr
COPY storage ./storage
COPY retention-rules ./retention-rules
COPY web ./web
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
USER node
EXPOSE 8080
CMD ["node", "bin/archive.js", "serve"]
