#!/usr/bin/env bash
# The release build `just install` installs and `just bench` measures, into .build-static: the Swift libraries
# linked in, and, where the toolchain has lld and this machine's glibc loads such binaries (2.36 or later), the
# relative relocations packed (DT_RELR). A PIE binary of ours carries about 41,000 of them: as a plain table that
# is about 1 MB the loader reads at every start and that stays resident (most of the agent's margin to its
# 12 MB), packed about 8 KB. The binaries then need glibc 2.36 where they run; without it, built on Debian 12,
# they need 2.35. To build for older nodes (Ubuntu 22.04's 2.35), set CORRAL_NO_RELR=1. The binaries also link
# libstdc++ and libgcc in and export no symbols, and `corral` is not position-independent (below, and Package.swift;
# CORRAL_SHARED_LIBSTDCXX=1 keeps the shared libraries).
#   scripts/build-installed.sh [swift build options...]     (--show-bin-path prints where the binaries are)
set -euo pipefail
cd "$(dirname "$0")/.."
flags=()
swift_bin="$(dirname "$(readlink -f "$(command -v swift)")")"
glibc="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
if [ -z "${CORRAL_NO_RELR:-}" ] && [ -x "$swift_bin/ld.lld" ] && [ -n "$glibc" ] &&
    printf '2.36\n%s\n' "$glibc" | sort -V -C; then
    flags=(-Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs)
fi
# CORRAL_INSTALLED_BUILD asks the manifest for the installed build's linker flags (Package.swift,
# installedLinkerFlags). libstdc++ (the Swift runtime's C++ library) and libgcc's unwinder are linked in where the
# toolchain has libstdc++'s archive (the GCC runtime library exception allows it): loading the shared ones was
# about 0.5 ms of every command's start, and 1 MiB of an idle agent (docs/PERFORMANCE.md). The manifest hands the
# links a folder that holds only the archive, so that it is found before the shared library.
export CORRAL_INSTALLED_BUILD=1
stdcxx=""
if [ -z "${CORRAL_SHARED_LIBSTDCXX:-}" ] && [ -x "$swift_bin/clang++" ]; then
    stdcxx="$("$swift_bin/clang++" -print-file-name=libstdc++.a 2>/dev/null || true)"
fi
if [ -n "$stdcxx" ] && [ -f "$stdcxx" ]; then
    mkdir -p .build-static/static-libstdc++
    ln -sf "$stdcxx" .build-static/static-libstdc++/libstdc++.a
    export CORRAL_STATIC_LIBSTDCXX="$PWD/.build-static/static-libstdc++"
fi
# No $ORIGIN run path: the binaries need no library beside them, and the loader would look for each one there first
# (about 20 failed file lookups at every start).
exec swift build -c release --static-swift-stdlib --disable-local-rpath --scratch-path .build-static "${flags[@]}" "$@"
