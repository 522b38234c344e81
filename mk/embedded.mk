# The shipped library (`make lib`): the Embedded Swift build of the runtime modules and the C
# targets, linked into libstrata.so and a one-object libstrata.a. Included by the Makefile, which
# defines ARCH, OUT, SONAME and swift_release_flags before it.

# ---- the shipped library: Embedded Swift (docs/EMBEDDING.md, "How the libraries are built") ----
# `swift build` (normal Swift: the tests, the CLI) and `make lib` compile the same sources.
# `make lib` compiles the runtime modules with Embedded Swift — no Swift runtime, no metadata, only
# what the code uses — one whole-module compile per module, in dependency order, with the release
# flags of ARCH (above); every C file under Sources/C*/ with the toolchain's clang; then links
# libstrata.so (strata.map exports strata_*) and a one-object libstrata.a.
EMB := $(OUT)/embedded
SWIFT_BIN := $(dir $(realpath $(shell command -v swiftc)))
# Per architecture (ARCH): the Embedded Swift target, the C compiler, the linker and binutils.
# aarch64: this toolchain has no Embedded standard library for aarch64-unknown-linux-gnu, so Swift
# compiles for the bare-metal aarch64-none-none-elf with Linux's C ABI (-clang-target), position
# independent, with the cross sysroot's glibc headers (Debian libc6-dev-arm64-cross; the bare-metal
# importer has no glibc include path); C by the toolchain's clang for aarch64-unknown-linux-gnu;
# the link by Debian's cross gcc and binutils (`make setup-aarch64` installs them).
AARCH64_SYSROOT := /usr/aarch64-linux-gnu
ifeq ($(ARCH),aarch64)
EMBEDDED_TARGET := aarch64-none-none-elf
EMBEDDED_TARGET_FLAGS := -clang-target aarch64-unknown-linux-gnu -Xcc -fPIC -Xcc -isystem -Xcc $(AARCH64_SYSROOT)/include
EMBEDDED_CC := $(SWIFT_BIN)clang --target=aarch64-unknown-linux-gnu
EMBEDDED_LINK := aarch64-linux-gnu-gcc
BINUTILS := aarch64-linux-gnu-
else
EMBEDDED_TARGET := x86_64-unknown-linux-gnu
EMBEDDED_TARGET_FLAGS :=
EMBEDDED_CC := $(SWIFT_BIN)clang
EMBEDDED_LINK := $(EMBEDDED_CC)
BINUTILS :=
endif
# The Embedded standard library's Unicode tables (String comparison normalizes).
EMBEDDED_RUNTIME := $(SWIFT_BIN)../lib/swift/embedded/$(EMBEDDED_TARGET)/libswiftUnicodeDataTables.a
# The runtime modules in dependency order (Package.swift's graph, flattened): the one place that
# orders them. Each module's .o (which also stands for its .swiftmodule) depends on the .o of the
# module before it, so make compiles them in this order; a new module goes in this list.
SWIFT_MODULES := StrataCore StrataKernels StrataFormat StrataEngine Strata
$(foreach m,$(SWIFT_MODULES),$(if $(previous_module),$(eval $(EMB)/$(m).o: $(EMB)/$(previous_module).o))$(eval previous_module := $(m)))
# C targets: Sources/C*/ with their headers in include/. A target without its own
# include/module.modulemap gets one like SwiftPM's (the whole include/ directory as umbrella).
C_TARGETS := $(patsubst Sources/%/,%,$(sort $(wildcard Sources/C*/)))
C_SOURCES := $(sort $(shell find $(addprefix Sources/,$(C_TARGETS)) -name '*.c'))
C_OBJECTS := $(patsubst Sources/%.c,$(EMB)/c/%.o,$(C_SOURCES))
C_HEADERS := $(shell find $(addprefix Sources/,$(C_TARGETS)) -name '*.h' -o -name module.modulemap)
C_INCLUDES := $(addprefix -I,$(wildcard $(addsuffix /include,$(addprefix Sources/,$(C_TARGETS)))))
MODULE_MAPS := $(foreach t,$(C_TARGETS),$(if $(wildcard Sources/$(t)/include/module.modulemap),\
                 Sources/$(t)/include/module.modulemap,$(if $(wildcard Sources/$(t)/include),$(EMB)/modulemaps/$(t)/module.modulemap)))
# Frame pointers as normal Swift keeps them on Linux: Embedded Swift omits them and emits no unwind
# tables, and without either no debugger or profiler can walk the stack through Strata.
EMBEDDED_SWIFTC := $(SWIFT_BIN)swiftc -target $(EMBEDDED_TARGET) $(EMBEDDED_TARGET_FLAGS) \
  -enable-experimental-feature Embedded \
  -enable-experimental-feature Extern -swift-version 6 -wmo -parse-as-library -package-name strata \
  $(call swift_release_flags,$(ARCH)) -Xcc -fno-omit-frame-pointer \
  -Xfrontend -function-sections \
  -I $(EMB) $(addprefix -Xcc ,$(C_INCLUDES)) $(addprefix -Xcc -fmodule-map-file=,$(MODULE_MAPS))
# The C files stay at the baseline ISA: abi.c's CPU gate must run on any x86-64 (any aarch64).
EMBEDDED_CFLAGS := -std=c11 -O2 -fPIC -fvisibility=hidden -fno-omit-frame-pointer -ffunction-sections \
                   -fdata-sections $(C_INCLUDES)

.SECONDARY: $(MODULE_MAPS)
$(EMB)/modulemaps/%/module.modulemap:
	mkdir -p $(@D)
	printf 'module %s {\n    umbrella "%s"\n    export *\n}\n' $* $(CURDIR)/Sources/$*/include > $@

.SECONDEXPANSION:
$(EMB)/%.o: $$(sort $$(shell find Sources/$$* -name '*.swift')) $(MODULE_MAPS) $(C_HEADERS)
	@mkdir -p $(@D)
	$(EMBEDDED_SWIFTC) -module-name $* $(filter %.swift,$^) \
	  -emit-module -emit-module-path $(EMB)/$*.swiftmodule -c -o $@
	@touch $@  # swiftc leaves an unchanged object file untouched (and older than its inputs)

$(EMB)/c/%.o: Sources/%.c $(C_HEADERS)
	@mkdir -p $(@D)
	$(EMBEDDED_CC) $(EMBEDDED_CFLAGS) -c $< -o $@

LIB_OBJECTS := $(addprefix $(EMB)/,$(addsuffix .o,$(SWIFT_MODULES))) $(C_OBJECTS)

# Unstripped (symbols for debuggers and valgrind); $(OUT)/lib gets the stripped copy. Embedded
# Swift interpolates a value that is not CustomStringConvertible (an array, say) as a placeholder
# sentence instead of failing to compile: the library must not contain that sentence.
$(EMB)/libstrata.so: $(LIB_OBJECTS) strata.map
	$(EMBEDDED_LINK) -shared -o $@ $(LIB_OBJECTS) $(EMBEDDED_RUNTIME) -lm -lpthread \
	  -Wl,--version-script=strata.map -Wl,-soname,$(SONAME) -Wl,--gc-sections -Wl,--no-undefined
	@if grep -q 'cannot print value in embedded Swift' $@; then rm -f $@; echo "error: a message interpolates \
	  a value Embedded Swift cannot print (use describeList/describeShape or a CustomStringConvertible type)"; exit 1; fi

# One relocatable object (ld -r; --gc-sections from the strata_* roots drops what the ABI cannot
# reach), every symbol but strata_* made local so nothing clashes with the application's.
$(EMB)/libstrata.a: $(LIB_OBJECTS)
	$(BINUTILS)ld -r --gc-sections $$($(BINUTILS)nm -g --defined-only $(LIB_OBJECTS) | awk '$$3 ~ /^strata_/ {print "-u", $$3}') \
	  -o $(EMB)/libstrata-prelinked.o $(LIB_OBJECTS) $(EMBEDDED_RUNTIME)
	$(BINUTILS)nm -g --defined-only $(EMB)/libstrata-prelinked.o | awk '$$3 ~ /^strata_/ {print $$3}' > $(EMB)/exports.txt
	$(BINUTILS)objcopy --strip-debug --keep-global-symbols=$(EMB)/exports.txt $(EMB)/libstrata-prelinked.o $(EMB)/libstrata.o
	rm -f $@ && $(BINUTILS)ar rcs $@ $(EMB)/libstrata.o

## lib: $(OUT)/lib/libstrata.so.$(ABI) (stripped, self-contained) + libstrata.so symlink,
##      $(OUT)/lib/libstrata.a (self-contained), $(OUT)/include/strata.h(pp) — built with Embedded Swift
lib: $(EMB)/libstrata.so $(EMB)/libstrata.a
	mkdir -p $(OUT)/lib $(OUT)/include
	rm -f $(OUT)/lib/libstrata.so $(OUT)/lib/libstrata.so.*
	$(BINUTILS)strip --strip-unneeded -o $(OUT)/lib/$(SONAME) $(EMB)/libstrata.so
	ln -s $(SONAME) $(OUT)/lib/libstrata.so
	cp $(EMB)/libstrata.a $(OUT)/lib/libstrata.a
	cp include/strata.h include/strata.hpp $(OUT)/include/
