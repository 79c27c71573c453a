# The README's two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIG ?= Release
BUILD := build
PORT ?= 5080
ADMIN_KEY ?= dev-admin-key
# A key that may only look (PluginHost:ReadOnlyAdmins): the admin page without its controls.
VIEWER_KEY ?= dev-viewer-key

.PHONY: all deps python-stubs node-deps protocol-baseline go-plugin build pack plugins run run-replicas test check-plugin aot r2r bench bundle-demo screenshot clean

# Root installs directly; anyone else through sudo.
APT := $(shell [ "$$(id -u)" = 0 ] && echo apt-get || echo sudo apt-get)

all: build

# The Node example's packages, and buf for the protocol's compatibility check, from the npm registry.
node-deps: deps
	cd examples/node-plugin && npm ci --no-audit --no-fund --silent
	cd tests/Protocol && npm ci --no-audit --no-fund --silent

# At a release of plugin.v1: what protos/ is now becomes what every later change is checked against
# (tests/Functional.Tests/ProtocolCompatibilityTests.cs). Only additions pass that check.
protocol-baseline: node-deps
	tests/Protocol/node_modules/.bin/buf build protos --exclude-source-info -o tests/Protocol/released.binpb

build: python-stubs node-deps go-plugin
	$(DOTNET) build Grpc.sln -c $(CONFIG) --nologo -v q

# The Go example, from Debian's Go and gRPC packages: GOPATH mode, so nothing is downloaded.
# Its stubs are generated from protos/ into a GOPATH under build/ (not committed); the binary lands beside its plugin.json.
GO_PATH := $(CURDIR)/$(BUILD)/gopath
GO_STUBS := Mplugin/v1/plugin.proto=goplugin/gen/pluginv1,Mplugin/v1/host.proto=goplugin/gen/pluginv1
go-plugin: deps
	@rm -rf $(GO_PATH)/src/goplugin && mkdir -p $(GO_PATH)/src/goplugin && cp examples/go-plugin/main.go $(GO_PATH)/src/goplugin/
	protoc -Iprotos --go_out=$(GO_PATH)/src --go_opt=$(GO_STUBS) --go-grpc_out=$(GO_PATH)/src --go-grpc_opt=$(GO_STUBS) plugin/v1/plugin.proto plugin/v1/host.proto
	cd $(GO_PATH)/src/goplugin && GO111MODULE=off GOPATH=$(GO_PATH):/usr/share/gocode GOCACHE=$(CURDIR)/$(BUILD)/gocache go build -trimpath -o $(CURDIR)/examples/go-plugin/plugin .

# The reference host's plugins directory: one folder per plugin, each with its plugin.json.
# PluginWorker is published for this machine's runtime, so ReadyToRun (the Sdk's default).
plugins: build
	$(DOTNET) publish src/PluginWorker -c $(CONFIG) --use-current-runtime --self-contained false --nologo -v q -o $(BUILD)/worker
	$(DOTNET) publish examples/hello -c $(CONFIG) --nologo -v q -o $(BUILD)/plugins/hello
	$(DOTNET) publish examples/isolation/json-old -c $(CONFIG) --nologo -v q -o $(BUILD)/plugins/json-old
	$(DOTNET) publish examples/isolation/json-new -c $(CONFIG) --nologo -v q -o $(BUILD)/plugins/json-new
	$(DOTNET) publish examples/sqlite-connector -c $(CONFIG) --nologo -v q -o $(BUILD)/plugins/sqlite-connector
	rm -rf $(BUILD)/plugins/python-hello && cp -r examples/python-plugin $(BUILD)/plugins/python-hello
	rm -rf $(BUILD)/plugins/node-hello && cp -r examples/node-plugin $(BUILD)/plugins/node-hello && cp -r protos $(BUILD)/plugins/node-hello/protos
	rm -rf $(BUILD)/plugins/go-hello && mkdir -p $(BUILD)/plugins/go-hello && cp examples/go-plugin/plugin examples/go-plugin/plugin.json $(BUILD)/plugins/go-hello/

run: plugins
	$(DOTNET) build examples/ReferenceHost -c $(CONFIG) --nologo -v q
	@echo "reference host on http://127.0.0.1:$(PORT) (admin key: $(ADMIN_KEY); read-only key: $(VIEWER_KEY)); Ctrl+C stops it and every worker"
	PluginHost__AdminApiKey=$(ADMIN_KEY) PluginHost__AdminApiKeys__viewer=$(VIEWER_KEY) PluginHost__ReadOnlyAdmins__0=viewer $(DOTNET) examples/ReferenceHost/bin/$(CONFIG)/net10.0/GrpcPlugins.ReferenceHost.dll \
		--contentRoot $(CURDIR)/examples/ReferenceHost/bin/$(CONFIG)/net10.0 \
		--urls http://127.0.0.1:$(PORT) \
		--PluginHost:PluginsDirectory=$(CURDIR)/$(BUILD)/plugins \
		--PluginHost:StateDirectory=$(CURDIR)/$(BUILD)/state \
		--PluginHost:AllowUnsignedPlugins=true \
		--PluginHost:ReloadOnChange=true \
		--PluginHost:TrustedKeysDirectory=$(CURDIR)/$(BUILD)/trust \
		--PluginHost:WorkerPath=$(CURDIR)/$(BUILD)/worker/GrpcPlugins.PluginWorker.dll

# The browser test drives Debian's chromium (a browser download is not possible here).
# The Python example uses Debian's grpc modules, which are for /usr/bin/python3.
# The Node.js example asks iproute2's `ss` who connects to it (examples/node-plugin/peers.js).
# The replica tests start private PostgreSQL servers from Debian's binaries (no cluster of the
# package's own is made or started: the tests need only the binaries).
deps:
	@command -v chromium >/dev/null && command -v npm >/dev/null && command -v ss >/dev/null && /usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null \
		&& ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && command -v go >/dev/null && command -v protoc-gen-go-grpc >/dev/null \
		&& dpkg -s golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev protoc-gen-go >/dev/null 2>&1 || { \
		mkdir -p /etc/postgresql-common 2>/dev/null; [ -w /etc/postgresql-common ] && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf; \
		$(APT) update -qq && DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq chromium python3-grpcio python3-grpc-tools postgresql iproute2 \
			golang-go protobuf-compiler protoc-gen-go protoc-gen-go-grpc golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev \
			$$(command -v npm >/dev/null || echo nodejs npm) >/dev/null; }

# Two replicas of the reference host, on PORT and PORT+1, sharing a private PostgreSQL store.
run-replicas: plugins
	$(DOTNET) build examples/ReferenceHost -c $(CONFIG) --nologo -v q
	PORT=$(PORT) ADMIN_KEY=$(ADMIN_KEY) CONFIG=$(CONFIG) examples/replicas/run.sh

# Python stubs generated from protos/ (not committed).
PY_GEN := examples/python-plugin/gen
python-stubs: deps
	@mkdir -p $(PY_GEN)
	/usr/bin/python3 -m grpc_tools.protoc -Iprotos --python_out=$(PY_GEN) --grpc_python_out=$(PY_GEN) plugin/v1/plugin.proto plugin/v1/host.proto
	@touch $(PY_GEN)/plugin/__init__.py $(PY_GEN)/plugin/v1/__init__.py

# The Sdk as a NuGet package, and the dotnet new template for plugins on it; functional tests build against both.
pack: build
	$(DOTNET) pack src/Sdk -c $(CONFIG) --no-build --nologo -v q -o $(BUILD)/packages
	$(DOTNET) pack src/Templates -c $(CONFIG) --no-build --nologo -v q -o $(BUILD)/packages

test: deps build pack
	$(DOTNET) test Grpc.sln -c $(CONFIG) --no-build --nologo -v q --logger "console;verbosity=minimal"

# A plugin folder run in a host of its own, each step of the protocol checked (docs/writing-a-plugin.md):
# make check-plugin PLUGIN=path/to/folder [CHECK_ARGS='--settings settings.json --with dependency-folder --report check.json']
check-plugin: plugins
	@test -n "$(PLUGIN)" || { echo "usage: make check-plugin PLUGIN=<plugin-folder> [CHECK_ARGS='--settings <settings.json> --with <dependency-folder> --report <report.json>']"; exit 2; }
	$(DOTNET) src/BundleTool/bin/$(CONFIG)/net10.0/GrpcPlugins.BundleTool.dll check $(PLUGIN) --worker $(CURDIR)/$(BUILD)/worker/GrpcPlugins.PluginWorker.dll $(CHECK_ARGS)

# The bundle tools on the example: a publisher key, a signed bundle, its verification and install.
bundle-demo: plugins
	$(DOTNET) build src/BundleTool -c $(CONFIG) --nologo -v q
	@mkdir -p $(BUILD)/keys $(BUILD)/trust $(BUILD)/installed
	$(DOTNET) src/BundleTool/bin/$(CONFIG)/net10.0/GrpcPlugins.BundleTool.dll keygen $(BUILD)/keys/publisher.pem $(BUILD)/trust/publisher.pem
	$(DOTNET) src/BundleTool/bin/$(CONFIG)/net10.0/GrpcPlugins.BundleTool.dll pack $(BUILD)/plugins/hello $(BUILD)/hello.bundle $(BUILD)/keys/publisher.pem
	$(DOTNET) src/BundleTool/bin/$(CONFIG)/net10.0/GrpcPlugins.BundleTool.dll verify $(BUILD)/hello.bundle $(BUILD)/trust
	rm -rf $(BUILD)/installed/hello
	$(DOTNET) src/BundleTool/bin/$(CONFIG)/net10.0/GrpcPlugins.BundleTool.dll install $(BUILD)/hello.bundle $(BUILD)/installed $(BUILD)/trust

# A picture of the admin page for humans, taken by the browser test.
screenshot: deps build
	SCREENSHOT_PATH=$(CURDIR)/docs/admin.png $(DOTNET) test tests/Functional.Tests -c $(CONFIG) --no-build --nologo -v q --filter "FullyQualifiedName~AdminPageTests"
	@echo "wrote docs/admin.png"

# What the bench's publishes below are made from: each runs again only when one of these changed
# since (a stamp in its folder), as a publish that is up to date still takes 20-30 s, which
# `make bench` would pay five times.
PUBLISH_INPUTS := $(shell find src examples/hello tests/TestPlugin protos -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.proto' -o -name '*.props' -o -name '*.targets' -o -name '*.json' \) -not -path '*/bin/*' -not -path '*/obj/*' 2>/dev/null) Directory.Build.props Directory.Packages.props tests/Directory.Build.props

# The hello example and the test plugin compiled ahead of time (NativeAOT, linked
# with gcc), for the cold-start and many-plugins figures. Their intermediate files
# stay under build/aot: the tests bundle the ordinary build folders.
aot: $(BUILD)/aot/.published
$(BUILD)/aot/.published: $(PUBLISH_INPUTS)
	$(DOTNET) publish examples/hello -c Release --use-current-runtime -p:PublishAot=true -p:CppCompilerAndLinker=gcc --artifacts-path $(BUILD)/aot/artifacts --nologo -v q -o $(BUILD)/aot/hello
	$(DOTNET) publish tests/TestPlugin -c Release --use-current-runtime -p:PublishAot=true -p:CppCompilerAndLinker=gcc --artifacts-path $(BUILD)/aot/artifacts --nologo -v q -o $(BUILD)/aot/testplugin
	touch $@

# The test plugin as the Sdk's JIT defaults publish it (build/GrpcPlugins.Sdk.targets): for a
# runtime, ReadyToRun; self-contained and trimmed, one composite image. And PluginWorker for
# this machine's runtime (ReadyToRun). For the JIT cold-start figures. Each variant has its
# own intermediate folder: sharing one, the SDK reused a composite image for the
# framework-dependent publish, which then aborted at start.
r2r: $(BUILD)/r2r/.published
$(BUILD)/r2r/.published: $(PUBLISH_INPUTS)
	$(DOTNET) publish tests/TestPlugin -c Release --use-current-runtime --self-contained false --artifacts-path $(BUILD)/r2r/artifacts-plain --nologo -v q -o $(BUILD)/r2r/testplugin
	$(DOTNET) publish tests/TestPlugin -c Release --use-current-runtime --self-contained -p:PublishTrimmed=true --artifacts-path $(BUILD)/r2r/artifacts-trimmed --nologo -v q -o $(BUILD)/r2r/testplugin-trimmed
	$(DOTNET) publish src/PluginWorker -c Release --use-current-runtime --self-contained false --artifacts-path $(BUILD)/r2r/artifacts-worker --nologo -v q -o $(BUILD)/r2r/worker
	touch $@

# The figures of issue 8's targets in one table (hooks, routes, restart, cold, polyglot, chain,
# many: a few minutes); ONLY=all every figure of docs/benchmarks.md; ONLY=routes,cold some
# sections (those and routeparts, endpoint, ab, spinner, transfer, attached, websocket, settings, replicas,
# hoststart, soak, memory).
bench: build aot r2r
	$(DOTNET) build tests/Benchmarks -c $(CONFIG) --nologo -v q
	$(DOTNET) tests/Benchmarks/bin/$(CONFIG)/net10.0/GrpcPlugins.Benchmarks.dll $(ONLY)

clean:
	rm -rf $(BUILD) $(PY_GEN) examples/go-plugin/plugin
	find . -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} +
