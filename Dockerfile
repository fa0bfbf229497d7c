# A static binary on a distroless base, run as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/wvsoft ./cmd/wvsoft

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/wvsoft /usr/local/bin/wvsoft
USER nonroot:nonroot
ENV LISTEN_ADDR=0.0.0.0:8080 WVSOFT_ENV=production
# The collector: Go's own variables. Collect when the heap has grown to 5× what was live (GOGC
# 400, default 100), but at the latest at 48 MiB of the runtime's memory (a soft limit): a
# quarter less CPU per request on a page of 1,000 persons, peak resident memory under 100 MB
# (BENCHMARKS.md). A container with more memory raises GOMEMLIMIT to its budget; make
# bench-peer runs the server with these two values.
ENV GOGC=400 GOMEMLIMIT=48MiB
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/wvsoft"]
CMD ["serve"]
