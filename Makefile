# ngx_mcp_module: build, run, test.
#   make              build build/ngx_http_mcp_module.so
#   make run          install what is missing, build, serve the quick start
#   make test         install what is missing, build, run the whole suite
#   make sanitize     the suite against an ASan/UBSan build of the module
#   make unit         the protocol core's unit tests alone (part of make test)
#   make fuzz         fuzz the protocol core and the JWT checks for
#                     FUZZ_SECONDS each (libFuzzer)
#   make valgrind     the suite with nginx under valgrind memcheck
#   make bench        throughput, latency and memory against plain nginx
#                     proxy_pass, the official SDK server and fastmcp
#                     (wrk, ratios), idle streams, delivery; BENCHMARKS.md
#   make NGINX_SRC=DIR  build against another nginx source tree
#   make test-nginx NGINX_SRC=DIR  the suite on nginx built from DIR

NGINX_SRC ?= /usr/share/nginx/src
NGINX     ?= /usr/sbin/nginx
BUILD     := build
PROVE     ?= prove
FUZZ_SECONDS ?= 60

.PHONY: all deps deps-run run test test-nginx asan sanitize valgrind unit fuzz bench clean

# always asks the build script: it notices a change of NGINX_SRC, and
# nginx's own make is quick when nothing changed
all:
	tools/build-module.sh $(NGINX_SRC) $(CURDIR)/$(BUILD)

deps-run:
	tools/install-deps.sh run

deps:
	tools/install-deps.sh test

run: deps-run
	$(MAKE) all
	tools/run-quickstart.sh $(NGINX)

test: deps
	$(MAKE) all
	$(PROVE) -r -j2 t/

# the suite against a build with AddressSanitizer and UBSan
asan: sanitize

sanitize: deps
	tools/sanitize.sh

# the suite against nginx and the module built from NGINX_SRC
test-nginx: deps
	tools/test-other-nginx.sh $(NGINX_SRC)

# the suite with every nginx process under valgrind's memcheck
valgrind: deps
	tools/valgrind.sh

# make bench BENCH_SECONDS=N BENCH_CONNECTIONS=N ...: see tools/bench/run.sh
# tools/bench/sse.pl (SSE_STREAMS=N SSE_MESSAGES=N SSE_WORKERS=N) and
# tools/bench/cluster.pl (CLUSTER_MESSAGES=N)
bench: deps
	tools/install-deps.sh bench
	$(MAKE) all
	tools/bench/all.sh $(NGINX)

unit: deps-run
	tools/build-core-tests.sh
	$(BUILD)/unit/core_test

# new inputs go to build/unit/corpus, crashes to build/unit/crash-*
fuzz:
	tools/install-deps.sh fuzz
	tools/build-core-tests.sh --fuzz
	mkdir -p $(BUILD)/unit/corpus
	$(BUILD)/unit/fuzz_core -max_total_time=$(FUZZ_SECONDS) \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/unit/ \
	    -dict=t/unit/fuzz_core.dict \
	    $(BUILD)/unit/corpus t/unit/corpus
	mkdir -p $(BUILD)/unit/corpus-jwt
	$(BUILD)/unit/fuzz_jwt -max_total_time=$(FUZZ_SECONDS) \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/unit/jwt- \
	    -dict=t/unit/fuzz_jwt.dict \
	    $(BUILD)/unit/corpus-jwt t/unit/corpus-jwt

clean:
	rm -rf $(BUILD) build-asan
