# syntax=docker/dockerfile:1
# Go-Megle: one static binary with the web UI embedded, on a minimal non-root image.

# --- 1. the web UI
FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# --- 2. the server, with the UI embedded (-tags embedui)
FROM golang:1.26-bookworm AS server
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY *.go *.lua ./
COPY internal/ internal/
COPY --from=web /src/web/dist web/dist
RUN CGO_ENABLED=0 go build -tags embedui -trimpath -ldflags="-s -w" -o /out/go-megle .

# --- 3. the runtime: no shell, no package manager, not root
FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=server /out/go-megle /go-megle
USER nonroot:nonroot
ENV ADDR=:8080
EXPOSE 8080
# no shell in this image: the binary probes itself
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/go-megle", "healthcheck", "http://127.0.0.1:8080/healthz"]
# SIGTERM drains: sockets close with 1012 and clients resume on another replica
STOPSIGNAL SIGTERM
ENTRYPOINT ["/go-megle"]
