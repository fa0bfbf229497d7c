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
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/wvsoft"]
CMD ["serve"]
