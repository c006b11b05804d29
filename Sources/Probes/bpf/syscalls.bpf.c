// Syscall latency histograms, aggregated in the kernel: for the syscalls user space enables
// (the `enabled` array, by syscall number), each call's time from entry to exit lands in a
// log2 bucket of `histogram`, so a busy host costs two map updates per call and user space
// reads a few hundred counters per window, never one event per call.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "syscall_key.h"
#include "lost_counter.h"

char LICENSE[] SEC("license") = "GPL";

#define MAX_SYSCALLS 512

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, MAX_SYSCALLS);
    __type(key, __u32);
    __type(value, __u8);
} enabled SEC(".maps");

struct call {
    __u64 start_ns;
    __u32 nr;
};

// The call in progress per thread: when it entered and which syscall it is (kept here, not
// read from the exit's registers: their layout is per architecture). An LRU: a thread killed
// inside a call never exits it, and its entry must not keep others out for good.
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, struct call);
} entered SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, MAX_SYSCALLS * SYSCALL_BUCKETS);
    __type(key, struct syscall_key);
    __type(value, __u64);
} histogram SEC(".maps");

static __always_inline __u32 log2_bucket(__u64 ns) {
    __u32 b = 0;
    for (int i = 0; i < SYSCALL_BUCKETS - 1; i++) {
        if (ns < 2) break;
        ns >>= 1;
        b++;
    }
    return b;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id) {
    __u32 nr = id;
    if (nr >= MAX_SYSCALLS) return 0;
    __u8 *on = bpf_map_lookup_elem(&enabled, &nr);
    if (!on || !*on) return 0;
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    struct call c = {.start_ns = bpf_ktime_get_ns(), .nr = nr};
    bpf_map_update_elem(&entered, &tid, &c, BPF_ANY);
    return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_exit, struct pt_regs *regs, long ret) {
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    struct call *c = bpf_map_lookup_elem(&entered, &tid);
    if (!c) return 0;
    struct syscall_key key = {.nr = c->nr, .bucket = log2_bucket(bpf_ktime_get_ns() - c->start_ns)};
    bpf_map_delete_elem(&entered, &tid);
    __u64 *n = bpf_map_lookup_elem(&histogram, &key);
    if (n) {
        __sync_fetch_and_add(n, 1);
    } else {
        __u64 one = 1;
        if (bpf_map_update_elem(&histogram, &key, &one, BPF_NOEXIST) != 0) {
            n = bpf_map_lookup_elem(&histogram, &key);  // another CPU inserted it meanwhile
            if (n) __sync_fetch_and_add(n, 1); else count_lost();
        }
    }
    return 0;
}
