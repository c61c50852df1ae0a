#!/usr/bin/env bash
# Checks Corral against a real NVIDIA GPU: probe, a real CUDA job through controller + agent + CLI, and the
# nvidia-smi outputs NodeProbe parses. Used on a lent GPU machine; see docs/hardware.md for what it showed.
#   scripts/gpu-check.sh BIN_DIR OUT_DIR
set -uo pipefail
bin="$1"; out="$2"; work="$(mktemp -d)"; export HOME="$work/home"; mkdir -p "$HOME"
port=18700
say() { echo "== $*"; }

say "probe"; "$bin/corral-agent" probe; "$bin/corral-agent" probe --json > "$out/probe.json"; cat "$out/probe.json"

"$bin/corral-controller" --data-dir "$work/ctl" --listen 127.0.0.1:$port --heartbeat-interval 1 \
    --default-unix-user "$(id -un)" --root-users admin >"$out/controller.log" 2>&1 &
for _ in $(seq 100); do [ -f "$work/ctl/endpoint" ] && break; sleep 0.1; done
"$bin/corral-agent" configure --endpoint http://127.0.0.1:$port --cluster-token "$(cat "$work/ctl/cluster.token")" \
    --node-id gpu-node --state-dir "$work/agent"
"$bin/corral-agent" start >"$out/agent.log" 2>&1 &
"$bin/corral" configure --endpoint http://127.0.0.1:$port --token "$(cat "$work/ctl/admin.token")"
for _ in $(seq 100); do "$bin/corral" nodes 2>/dev/null | grep -q READY && break; sleep 0.1; done
say "nodes"; "$bin/corral" nodes; "$bin/corral" nodes --json > "$out/nodes.json"

# A real CUDA program: device count, name, PCI bus id as CUDA sees them, a kernel, and memory held for 3 s.
mkdir -p "$work/job"
cat > "$work/job/check.cu" <<'CU'
#include <cstdio>
#include <unistd.h>
#include <cuda_runtime.h>
__global__ void add(const float *a, const float *b, float *c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) c[i] = a[i] + b[i];
}
int main() {
    int count = 0; cudaError_t e = cudaGetDeviceCount(&count);
    printf("cuda devices visible: %d (%s)\n", count, cudaGetErrorString(e)); if (count == 0) return 2;
    cudaDeviceProp p; cudaGetDeviceProperties(&p, 0);
    printf("device 0: %s, pci %04x:%02x:%02x, %zu MiB\n", p.name, p.pciDomainID, p.pciBusID, p.pciDeviceID, p.totalGlobalMem >> 20);
    const int n = 1 << 24; float *a, *b, *c; size_t bytes = n * sizeof(float);
    cudaMalloc(&a, bytes); cudaMalloc(&b, bytes); cudaMalloc(&c, bytes);
    float one = 1.0f, two = 2.0f, r = 0;
    cudaMemset(a, 0, bytes); cudaMemset(b, 0, bytes);
    cudaMemcpy(a, &one, sizeof(float), cudaMemcpyHostToDevice); cudaMemcpy(b, &two, sizeof(float), cudaMemcpyHostToDevice);
    add<<<(n + 255) / 256, 256>>>(a, b, c, n); cudaMemcpy(&r, c, sizeof(float), cudaMemcpyDeviceToHost);
    printf("kernel: 1 + 2 = %.1f (%s)\n", r, cudaGetErrorString(cudaGetLastError()));
    fflush(stdout); sleep(3); return r == 3.0f ? 0 : 1;
}
CU
nvcc=$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
if [ -n "$nvcc" ] && "$nvcc" -o "$work/job/check" "$work/job/check.cu" 2>"$out/nvcc.log"; then
    cmd=("$work/job/check")
else
    say "no nvcc: falling back to nvidia-smi inside the job"; cat "$out/nvcc.log" 2>/dev/null
    cmd=(sh -c 'nvidia-smi -L; sleep 3')
fi
job=$("$bin/corral" submit --gpus 1 --name cuda-check --cwd "$work/job" -- sh -c 'echo CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES CUDA_DEVICE_ORDER=$CUDA_DEVICE_ORDER CORRAL_JOB_ID=$CORRAL_JOB_ID; exec "$@"' job "${cmd[@]}")
say "submitted $job"
sleep 1.5
nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory,process_name --format=csv,noheader,nounits > "$out/compute-apps-running.csv" 2>&1
say "compute apps while the job runs"; cat "$out/compute-apps-running.csv"
for _ in $(seq 200); do "$bin/corral" show "$job" --json | grep -qE '"state" : "(SUCCEEDED|FAILED)"' && break; sleep 0.1; done
say "show"; "$bin/corral" show "$job"; "$bin/corral" show "$job" --json > "$out/job.json"
say "job log"; cat "$work/agent/logs/$job.1.log" | tee "$out/job.log"
# GPU isolation on the real device: a job given no GPU, run as an unprivileged account of its own, must not
# open the GPU's device node (both walls: the mount namespace and, on v1/hybrid nodes, the devices cgroup),
# and CUDA inside it must see no device; the same account given the GPU must see it.
probe_user="corralgpu$$"
if useradd --no-create-home --home-dir /nonexistent --shell /bin/sh --user-group "$probe_user" 2>/dev/null; then
    token=$("$bin/corral" tokens create --user gpuprobe --unix-user "$probe_user" --json | sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')
    chmod 755 "$work" "$work/job"
    probe='for d in /dev/nvidia[0-9]*; do (exec 3<"$d") 2>/dev/null && echo "$d: open" || echo "$d: denied"; done; '
    probe+='id -un; nvidia-smi -L 2>&1 | head -3; [ -x ./check ] && ./check'
    for gpus in 0 1; do
        j=$(CORRAL_TOKEN="$token" "$bin/corral" submit --gpus "$gpus" --cwd "$work/job" -- sh -c "$probe")
        for _ in $(seq 200); do "$bin/corral" show "$j" --json | grep -qE '"state" : "(SUCCEEDED|FAILED)"' && break; sleep 0.1; done
        say "isolation: a job of $probe_user with --gpus $gpus"; cat "$work/agent/logs/$j.1.log" | tee "$out/isolation-gpus-$gpus.log"
    done
    userdel "$probe_user" 2>/dev/null
fi
big=$("$bin/corral" submit --gpus 2 -- true); sleep 0.5
say "a 2-GPU job on a 1-GPU node"; "$bin/corral" ls; "$bin/corral" show "$big" --json | grep -E '"(state|reason)"'
say "ls"; "$bin/corral" ls --all
kill %1 %2 2>/dev/null; wait 2>/dev/null
