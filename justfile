# Corral's tasks. `./bootstrap <recipe>` installs what is missing first.

set shell := ["bash", "-euo", "pipefail", "-c"]

swift_dirs := "Package.swift Packages Apps Tests"

# List the recipes.
default:
    @just --list

# Build the three binaries (debug). SwiftPM misses files added under Packages/ until the root manifest changes,
# hence the touch.
build:
    touch Package.swift
    swift build 2>&1 | tee .build-log.txt
    @! grep -E "warning:|error:" .build-log.txt | grep -v "^warning: 'main'" || (echo "the build has warnings" && exit 1)

# Run every test (unit and end-to-end). FILTER narrows them, e.g. `just test EndToEndTests`.
# The fault suite (ChaosTests, small here; `just chaos` runs it full) has a process of its own: its kill -9 rounds
# and load would starve the other suites' daemons on a 2-core machine.
# Three more processes: HTTPKit's live server tests need the test process's cooperative threads (two on a 2-core
# machine), which CPU-heavy and blocking unit tests of other suites would otherwise hold for seconds; and the
# 5,000-connection test raises the descriptor limit and holds thousands of sockets.
test FILTER="":
    touch Package.swift
    {{ if FILTER == "" { "swift test --skip HTTPKitTests --skip ChaosTests" } else { "swift test --filter " + FILTER } }} 2>&1 | tee .test-log.txt
    {{ if FILTER == "" { "swift test --skip-build --filter ChaosTests 2>&1 | tee -a .test-log.txt" } else { "true" } }}
    {{ if FILTER == "" { "swift test --skip-build --filter HTTPKitTests --skip ManyConnectionsTests 2>&1 | tee -a .test-log.txt" } else { "true" } }}
    {{ if FILTER == "" { "swift test --skip-build --filter ManyConnectionsTests 2>&1 | tee -a .test-log.txt" } else { "true" } }}
    @grep -oE "Test run with [0-9]+ tests?" .test-log.txt | awk '{ n += $4 } END { print "tests: " n " passed, 0 failed" }'

# Modules of the cluster, which the system layer and HTTPKit must not import (arrows never point up).
cluster_modules := "ClusterCore|ClusterCoreTesting|ClusterWire|ClusterStore|NodeProbe|CorralSupport|CorralClient"


# Static checks: formatting, ClusterCore imports nothing but the standard library, LinuxSystem and HTTPKit import
# nothing of the cluster, no Swift file of Packages/ or Apps/ is over 400 lines. (The build fails on any warning,
# ExplicitSendable ones included.)
check:
    swift format lint --strict --recursive --parallel {{swift_dirs}}
    @! grep -rnE '^\s*(@[a-zA-Z_]+ )?(public |internal |package )?import ' Packages/ClusterCore/Sources/ClusterCore || (echo "ClusterCore must import nothing but the standard library" && exit 1)
    @! grep -rnE --include='*.swift' '^\s*(@[a-zA-Z_]+ )?(public |internal |package )?import ([a-z]+ )?({{cluster_modules}})\b' Packages/LinuxSystem Packages/HTTPKit || (echo "LinuxSystem and HTTPKit must import nothing of the cluster" && exit 1)
    @long=$(find Packages Apps -name '*.swift' -not -path '*/.build/*' | sort | while read -r file; do lines=$(wc -l < "$file"); if [ "$lines" -gt 400 ]; then echo "  $file: $lines lines"; fi; done); if [ -n "$long" ]; then printf 'Swift files over 400 lines (split them by concern):\n%s\n' "$long"; exit 1; fi

# Rewrite the sources in the project's style.
fix:
    swift format format --in-place --recursive --parallel {{swift_dirs}}

# Build the example tool that uses CorralClient as a library (Examples/submit-and-wait).
example:
    swift build --package-path Examples/submit-and-wait 2>&1 | tee .build-log-example.txt
    @! grep -E "warning:|error:" .build-log-example.txt || (echo "the example has warnings" && exit 1)

# Everything CI runs: check, build (no warnings), the example, all tests (the end-to-end ones run the example).
qa: check build example test

# Build, start a local controller and one agent on loopback, configure the CLI, and say what to try.
up: build
    scripts/dev-cluster.sh up

# Stop the local cluster that `just up` started.
down:
    scripts/dev-cluster.sh down

# The fault suite at full size (issue 18): kill -9 of the controller under submission load, kill -9 of agents
# with running jobs, a network cut in a network namespace of its own, disk full on the controller's data dir
# and on an agent's state dir (a tmpfs), SIGSTOP of an agent past its lease, a clock step on the controller.
# Each scenario prints its counts (gathered at the end); any loss, double run or log byte lost or duplicated
# fails it. Needs root for the namespace and tmpfs ones. `just test` (and so `just qa`) runs it small.
chaos:
    touch Package.swift
    rm -f .chaos-report.txt
    CORRAL_CHAOS=full CORRAL_CHAOS_REPORT="$PWD/.chaos-report.txt" swift test --filter "ChaosTests|DiskFullTests" 2>&1 | tee .chaos-log.txt
    @echo "counts:" && cat .chaos-report.txt

# Release build, then the figures of docs/PERFORMANCE.md on loopback (full: < 10 min here, quick: < 2 min).
bench MODE="full":
    scripts/bench.sh {{MODE}}

# Re-embed docs/openapi.json in the controller (OpenAPIDocument+*.swift) after editing it; OpenAPITests checks the
# two agree and that the document has every route of the router and no other.
openapi:
    python3 scripts/openapi-embed.py

# The API fuzz test at length: schemathesis with 200 examples per operation and a fresh seed (just qa runs 10
# with seed 7).
fuzz:
    CORRAL_FUZZ_EXAMPLES=200 CORRAL_FUZZ_RANDOM=1 swift test --filter APIFuzzTests

# The trace replay rows of docs/scheduling.md and docs/PERFORMANCE.md (issue 15): both prepared openb workloads,
# both time-limit variants, 1 and 20 users, both policies (release build; about a minute after it).
replay TRACES="../shared/data/traces/replay":
    swift build -c release --product corral-bench
    for policy in shortest-first fair-share; do for load in 0.9 1.1; do for limits in exact 2x-hour; do for users in 1 20; do \
        echo "== --policy $policy load $load --limits $limits --users $users"; \
        .build/release/corral-bench replay --trace {{TRACES}}/openb_load$load.csv --policy $policy --limits $limits --users $users | sed -n '4p;6p'; \
    done; done; done; done

# Install the three binaries (release build, the Swift runtime linked in: each is one file that runs without a
# Swift toolchain, and starts faster; relocations packed where glibc allows, scripts/build-installed.sh:
# docs/PERFORMANCE.md) into PREFIX/bin. CORRAL_NO_RELR=1 builds for nodes with glibc older than 2.36.
install PREFIX="/usr/local":
    scripts/build-installed.sh
    install -d {{PREFIX}}/bin
    install -m 0755 .build-static/release/corral .build-static/release/corral-agent .build-static/release/corral-controller {{PREFIX}}/bin/
    @echo "installed corral, corral-agent and corral-controller into {{PREFIX}}/bin"

# Slurm's command names as links to corral in PREFIX/bin (sbatch, srun, squeue, scancel, sacct, sinfo, scontrol:
# docs/slurm.md). Only when asked: they would shadow a real Slurm on the PATH.
install-slurm-compat PREFIX="/usr/local":
    test -x {{PREFIX}}/bin/corral || just install {{PREFIX}}
    for tool in sbatch srun squeue scancel sacct sinfo scontrol; do ln -sf corral {{PREFIX}}/bin/$tool; done
    @echo "linked sbatch srun squeue scancel sacct sinfo scontrol to corral in {{PREFIX}}/bin"
