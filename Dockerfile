# Interlock: one static binary; the worker and the intake are the same image with different commands.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/interlock ./cmd/interlock

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/interlock /usr/local/bin/interlock
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/interlock"]
CMD ["--help"]
