// A sampling CPU profiler: a perf event per CPU (set up by user space, CPUProfiler.swift)
// runs this at a fixed frequency; each sample's user and kernel stacks go into a stack map
// and are counted per (process, stacks) in the kernel, so user space reads counts per window
// instead of one event per sample.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "profile_key.h"
#include "lost_counter.h"

char LICENSE[] SEC("license") = "GPL";

#define MAX_STACK_DEPTH 127
#define BPF_F_USER_STACK (1ULL << 8)

struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __uint(max_entries, 16384);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, struct profile_key);
    __type(value, __u64);
} counts SEC(".maps");

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx) {
    __u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid == 0) return 0;  // the idle task: not where CPU goes
    struct profile_key key = {};
    key.pid = pid;
    key.user_stack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
    key.kernel_stack = bpf_get_stackid(ctx, &stacks, 0);
    bpf_get_current_comm(&key.comm, sizeof(key.comm));
    __u64 *n = bpf_map_lookup_elem(&counts, &key);
    if (n) {
        __sync_fetch_and_add(n, 1);
        return 0;
    }
    __u64 one = 1;
    if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST) != 0) {
        n = bpf_map_lookup_elem(&counts, &key);  // another CPU inserted it meanwhile
        if (n) { __sync_fetch_and_add(n, 1); return 0; }
        count_lost();
    }
    return 0;
}
