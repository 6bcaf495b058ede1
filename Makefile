# vnetlab — see README.md. `make`, `make check`, `make demo`, `make bench`, `make fuzz`.
CC      ?= gcc
BUILD   ?= build
PREFIX  ?= /usr/local
VERSION ?= 0.2.0
PKGS    := libnl-3.0 libnl-route-3.0 libmnl libnftnl yaml-0.1 libpcap libgvc
DEB_PKGS := gcc make pkg-config libnl-3-dev libnl-route-3-dev libmnl-dev libnftnl-dev \
            libyaml-dev libcriterion-dev libpcap-dev libgraphviz-dev libxml2-dev tcpdump iproute2 iputils-ping nftables curl python3 clang libclang-rt-14-dev time dnsutils

# Only the tests read XML (the SVG of `graph`).
TEST_PKGS := libxml-2.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN     := -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Werror
OPT      ?= -O2 -g
SAN      ?=
CFLAGS   := -std=gnu11 $(WARN) $(OPT) $(SAN) -Iinclude $(PKG_CFLAGS) -D_GNU_SOURCE -DVL_VERSION='"$(VERSION)"'
LDFLAGS  := $(SAN)
LDLIBS   := $(PKG_LIBS)

LIB_SRCS  := $(sort $(filter-out lab/cli/%,$(wildcard lab/*/*.c)))
CLI_SRCS  := $(sort $(wildcard lab/cli/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
TEST_COMMON := $(sort $(wildcard tests/common/*.c))
TEST_COMMON_OBJS := $(TEST_COMMON:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
LAB_SRCS  := $(sort $(wildcard tests/lab/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/%.c=$(BUILD)/tests/%)
LAB_BINS  := $(LAB_SRCS:tests/%.c=$(BUILD)/tests/%)

# Objects are prerequisites of pattern rules only; keep them between runs.
.SECONDARY:

.PHONY: all deps install check check-unit check-lab check-san check-fuzz contract demo bench fuzz clean format diagrams

all: $(BUILD)/vnetlab

deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(BUILD)/%.o: %.c $(wildcard include/vnetlab/*.h) $(wildcard lab/*/*.h) $(wildcard tests/common/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libvnetlab.a: $(LIB_OBJS)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BUILD)/vnetlab: $(CLI_OBJS) $(BUILD)/libvnetlab.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libvnetlab.a $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(TEST_COMMON_OBJS) $(BUILD)/libvnetlab.a $(wildcard include/vnetlab/*.h) $(wildcard tests/common/*.h)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS) $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null) -Itests -o $@ $< $(TEST_COMMON_OBJS) \
		$(BUILD)/libvnetlab.a $(LDLIBS) $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null) -lcriterion

install: $(BUILD)/vnetlab
	install -D -m 0755 $(BUILD)/vnetlab $(DESTDIR)$(PREFIX)/bin/vnetlab
	install -D -m 0644 docs/vnetlab.1 $(DESTDIR)$(PREFIX)/share/man/man1/vnetlab.1
	install -D -m 0644 docs/vnetlab.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/vnetlab

# docs/diagrams/NAME.svg for every shipped topology (workshop files as workshop-NAME), drawn by
# `vnetlab graph` itself (Graphviz's layout in-process). Rerun when a topology or the graph changes.
DIAGRAM_SRCS := $(sort $(wildcard topologies/*.yaml)) $(sort $(wildcard topologies/workshop/*.yaml))
diagrams: $(BUILD)/vnetlab
	@mkdir -p docs/diagrams
	@set -e; for t in $(DIAGRAM_SRCS); do \
		n=$$(echo "$${t#topologies/}" | sed 's,/,-,g; s,\.yaml$$,,'); \
		echo "  GRAPH   docs/diagrams/$$n.svg"; \
		$(BUILD)/vnetlab graph "$$t" -o "docs/diagrams/$$n.svg"; \
	done

# Pure tests: no root needed.
check-unit: $(UNIT_BINS) $(BUILD)/vnetlab
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; VNETLAB=$(BUILD)/vnetlab $$t --jobs 2; done

# Lab tests build real namespaces: root only; each cleans up after itself.
check-lab: $(LAB_BINS) $(BUILD)/vnetlab
	@if [ "$$(id -u)" != 0 ]; then echo "check-lab: skipped (needs root)"; exit 0; fi; \
	set -e; for t in $(LAB_BINS); do echo "== $$t"; VNETLAB=$(BUILD)/vnetlab $$t --jobs 1; done

contract: $(BUILD)/vnetlab
	@if [ "$$(id -u)" != 0 ]; then echo "contract: skipped (needs root)"; exit 0; fi; \
	bash ../shared/acceptance/contract.sh all $(BUILD)/vnetlab
	bash ../shared/acceptance/contract.sh routing $(BUILD)/vnetlab

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer; leaks are errors.
check-san:
	$(MAKE) BUILD=build-san OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
		check-unit check-lab
check-san: export ASAN_OPTIONS = detect_leaks=1:abort_on_error=1
check-san: export UBSAN_OPTIONS = print_stacktrace=1:halt_on_error=1
check-san: export LSAN_OPTIONS = suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0

check: deps
	$(MAKE) all check-unit check-lab
	@if [ -d ../shared/acceptance ]; then $(MAKE) contract; fi
	$(MAKE) check-san
	$(MAKE) check-fuzz

# A name of its own (the shell's pid), so a user's "kubenet" lab is never touched.
DEMO_LAB ?= demo$$$$
demo: deps
	$(MAKE) all
	$(BUILD)/vnetlab run topologies/kubenet-outbound.yaml --name $(DEMO_LAB)

BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

$(BUILD)/bench/%: bench/%.c $(BUILD)/libvnetlab.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libvnetlab.a $(LDLIBS)

bench: deps
	$(MAKE) all $(BENCH_BINS)
	bash bench/run.sh $(BUILD)/vnetlab

fuzz:
	$(MAKE) -C tests/fuzz

# The fuzz targets built and replayed over the seed corpus and every kept bad input
# (deterministic: no new inputs are generated here; `make -C tests/fuzz run` fuzzes).
check-fuzz:
	$(MAKE) -C tests/fuzz
	build/fuzz/fuzz_loader -runs=0 tests/data/good tests/data/bad
	build/fuzz/fuzz_import -runs=0 tests/data/azure
	build/fuzz/fuzz_dns -runs=0 tests/data/dns
	build/fuzz/fuzz_journal -runs=0 tests/fuzz/corpus/journal
	build/fuzz/fuzz_state -runs=0 tests/fuzz/corpus/state
	build/fuzz/fuzz_wire -runs=0 tests/fuzz/corpus/wire
	build/fuzz/fuzz_netpol -runs=0 tests/fuzz/corpus/netpol

format:
	clang-format -i $(LIB_SRCS) $(CLI_SRCS) include/vnetlab/*.h

clean:
	rm -rf build build-san
