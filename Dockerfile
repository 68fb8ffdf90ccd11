# syntax=docker/dockerfile:1
#
# officeflow's production images: static Go binaries on distroless, non-root.
# Two targets share every layer but the last, so `docker compose build` pays
# for one compilation:
#   worker  -> /worker             (the saga worker; /healthz on METRICS_ADDR)
#   intake  -> /starter serve      (the HTTP intake API; /readyz on HTTP_ADDR)
# Both images carry /healthcheck, the probe compose's healthchecks run, as the
# runtime image has no shell, curl or wget. Built with -tags production: no
# embedded Temporal server or Web UI, no fakes, no bench (-dev and `starter
# bench` answer that this build has none).

# The build runs on the builder's own platform and cross-compiles, which is
# much faster than emulating the target for a multi-arch build.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -tags production -ldflags="-s -w" -o /out/ ./worker ./starter ./deploy/healthcheck

# static-debian12 has CA certificates and tzdata (SMTP/Partner API over TLS,
# Polish invoice dates) and nothing else; :nonroot runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=build /out/worker /out/starter /out/healthcheck /
USER nonroot:nonroot
WORKDIR /home/nonroot

FROM runtime AS intake
# The process default is 127.0.0.1, unreachable from outside a container.
ENV HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/starter", "serve"]

# Last, so that a plain `docker build .` yields the worker.
FROM runtime AS worker
ENV METRICS_ADDR=0.0.0.0:9090
EXPOSE 9090
ENTRYPOINT ["/worker"]
