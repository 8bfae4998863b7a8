#!/usr/bin/env bash
# Proves that the modules install like any Go dependency, without publishing:
# packs every module of the working tree at a test version into a file-based
# module proxy (scripts/modproxy, golang.org/x/mod/zip), then, in a fresh
# module outside the repository, with that proxy in front of the usual one and
# no replace directive: go get the root module and each adapter, compile the
# README's snippets, and go install the CLI at the test version.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# A fresh version per run: the module cache never holds a stale copy of it.
version="${INSTALLCHECK_VERSION:-v0.0.1-installcheck.$(date +%s)}"
mod=github.com/mcpauthz/mcpauthz
work="$(mktemp -d)"
modcache="$(go env GOMODCACHE)"
cleanup() {
  # Drop this run's test version from the shared module cache.
  for d in "$modcache"/github.com/mcpauthz/mcpauthz*@"$version" "$modcache"/cache/download/github.com/mcpauthz/mcpauthz*; do
    [ -e "$d" ] || continue
    case "$d" in
      *@"$version") chmod -R u+w "$d"; rm -rf "$d" ;;
      *) find "$d" -name "$version.*" -delete 2>/dev/null || true ;;
    esac
  done
  rm -rf "$work"
}
trap cleanup EXIT

upstream="$(go env GOPROXY)"
echo "== modproxy: packing the working tree at $version"
(cd "$repo/scripts/modproxy" && GOWORK=off go run . -repo "$repo" -version "$version" -out "$work/proxy")

export GOWORK=off
export GOFLAGS=-mod=mod
export GOPROXY="file://$work/proxy,$upstream"
export GONOSUMDB="$mod"      # the test version is in no checksum database
export GOPRIVATE=             # keep the proxy in front for our path
export GONOPROXY=

app="$work/app"
mkdir -p "$app"
cd "$app"
go mod init example.com/installcheck >/dev/null 2>&1
echo "== go get $mod, its adapters and stores @$version"
go get "$mod@$version" "$mod/adapters/gin@$version" "$mod/adapters/chi@$version" "$mod/adapters/fiber@$version" \
  "$mod/stores/redis@$version" "$mod/stores/postgres@$version"
if grep -q '^replace' go.mod; then echo "installcheck: go.mod has a replace directive" >&2; exit 1; fi
go build "$mod/adapters/gin" "$mod/adapters/chi" "$mod/adapters/fiber" "$mod/stores/redis"

# The README's minimal integration (Protect an MCP server: with your IdP,
# from one file), and the adapters' mounting calls, compiled as a program.
cat > main.go <<'GO'
package main

import (
	"context"
	"log"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/gofiber/fiber/v2"

	chimcp "github.com/mcpauthz/mcpauthz/adapters/chi"
	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	ginmcp "github.com/mcpauthz/mcpauthz/adapters/gin"
	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/verifier"
)

func main() {
	ctx := context.Background()
	var mcpHandler http.Handler = http.NotFoundHandler()

	g, err := config.NewGuard(ctx, "guard.yaml", config.Options{})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	httpmcp.Register(mux, g, mcpHandler) // the Guard on /mcp + the RFC 9728 metadata

	const resource = "https://mcp.example.com/mcp"
	okta, err := verifier.Okta(verifier.OktaConfig{Domain: "acme.okta.com", Audience: []string{resource}})
	if err != nil {
		log.Fatal(err)
	}
	v, err := verifier.New(ctx, verifier.Config{Issuers: okta.Issuers})
	if err != nil {
		log.Fatal(err)
	}
	_, _ = core.New(core.Config{Resource: resource, Verifier: v, Mapper: v.Mapper(), AuthenticateOnly: true,
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{okta.Issuers[0].Issuer}}})

	_ = ginmcp.Middleware(g)
	_ = chimcp.Middleware(g)
	_ = fibermcp.New(g)
	_, _, _ = gin.New, chi.NewRouter, fiber.New
	log.Fatal(http.ListenAndServe(":8080", mux))
}
GO
go mod tidy
echo "== go build (README snippets)"
go build -o /dev/null .

echo "== go install $mod/cmd/mcpauthz@$version"
GOBIN="$work/bin" go install "$mod/cmd/mcpauthz@$version"
"$work/bin/mcpauthz" -h | head -3
echo "installcheck: OK ($version)"
