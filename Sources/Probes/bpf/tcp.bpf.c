// TCP from the host's point of view: connection latency (connect → established) and failed
// connects, retransmits, resets received and sent, each with the process that opened the
// connection where this probe saw it connect. BTF-typed tracepoints (tp_btf): stable hooks,
// attached through the kernel's BTF (no tracefs needed); the socket is their first argument.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "tcp_event.h"
#include "lost_counter.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 24);
} events SEC(".maps");

struct owner {
    __u64 connect_ns;
    __u32 pid;
    char comm[16];
};

// Connecting sockets and who connected them; an LRU so that sockets this probe never sees
// close cannot fill it.
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, __u64);
    __type(value, struct owner);
} owners SEC(".maps");

// The connection's addresses and ports, from the socket itself.
static __always_inline void fill_from_sock(struct tcp_event *e, struct sock *sk) {
    e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
    e->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
    e->remote_port = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
    e->pad = 0;
    __builtin_memset(e->local_addr, 0, 16);
    __builtin_memset(e->remote_addr, 0, 16);
    if (e->family == AF_INET6) {
        BPF_CORE_READ_INTO(&e->local_addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
        BPF_CORE_READ_INTO(&e->remote_addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
    } else {
        BPF_CORE_READ_INTO((__u32 *)e->local_addr, sk, __sk_common.skc_rcv_saddr);
        BPF_CORE_READ_INTO((__u32 *)e->remote_addr, sk, __sk_common.skc_daddr);
    }
}

static __always_inline int emit(__u32 kind, struct sock *sk, __u64 latency, const struct owner *o) {
    struct tcp_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) { count_lost(); return 0; }
    e->time_ns = bpf_ktime_get_ns();
    e->latency_ns = latency;
    e->kind = kind;
    fill_from_sock(e, sk);
    if (o) {
        e->pid = o->pid;
        __builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
    } else {
        e->pid = 0;
        __builtin_memset(e->comm, 0, sizeof(e->comm));
    }
    bpf_ringbuf_submit(e, 0);
    return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_state, struct sock *socket, int oldstate, int newstate) {
    if (BPF_CORE_READ(socket, sk_protocol) != IPPROTO_TCP) return 0;
    __u64 sk = (__u64)socket;
    if (newstate == TCP_SYN_SENT) {
        // Called from connect(): the current task is the one connecting.
        struct owner o = {.connect_ns = bpf_ktime_get_ns(), .pid = bpf_get_current_pid_tgid() >> 32};
        bpf_get_current_comm(&o.comm, sizeof(o.comm));
        bpf_map_update_elem(&owners, &sk, &o, BPF_ANY);
        return 0;
    }
    if (oldstate != TCP_SYN_SENT) {
        if (newstate == TCP_CLOSE) bpf_map_delete_elem(&owners, &sk);
        return 0;
    }
    struct owner *o = bpf_map_lookup_elem(&owners, &sk);
    if (!o) return 0;
    __u64 latency = bpf_ktime_get_ns() - o->connect_ns;
    if (newstate == TCP_ESTABLISHED) return emit(TCP_CONNECTED, socket, latency, o);
    emit(TCP_CONNECT_FAILED, socket, latency, o);
    if (newstate == TCP_CLOSE) bpf_map_delete_elem(&owners, &sk);
    return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(on_retransmit, struct sock *socket) {
    __u64 sk = (__u64)socket;
    if (!sk) return 0;
    return emit(TCP_RETRANSMIT, socket, 0, bpf_map_lookup_elem(&owners, &sk));
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(on_reset_received, struct sock *socket) {
    __u64 sk = (__u64)socket;
    if (!sk) return 0;
    return emit(TCP_RESET_RECEIVED, socket, 0, bpf_map_lookup_elem(&owners, &sk));
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(on_reset_sent, struct sock *socket) {
    __u64 sk = (__u64)socket;
    // A reset answering a segment for no socket (a closed port) has none: nothing to attribute.
    if (!sk) return 0;
    return emit(TCP_RESET_SENT, socket, 0, bpf_map_lookup_elem(&owners, &sk));
}
