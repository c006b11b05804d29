// The record tcp.bpf.c writes to its ring buffer; TCPEvent.swift reads it at these offsets.
#pragma once

#define TCP_CONNECTED 1        // connect() → established; latency_ns is the handshake
#define TCP_CONNECT_FAILED 2   // connect() → closed before established (refused, timed out)
#define TCP_RETRANSMIT 3
#define TCP_RESET_RECEIVED 4
#define TCP_RESET_SENT 5

struct tcp_event {
    __u64 time_ns;       // CLOCK_MONOTONIC                           offset 0
    __u64 latency_ns;    // connected / connect failed: since connect  offset 8
    __u32 kind;          //                                           offset 16
    __u32 pid;           // the process that connected (0: unknown)   offset 20
    __u16 family;        // AF_INET or AF_INET6                        offset 24
    __u16 local_port;    // host order                                offset 26
    __u16 remote_port;   // host order                                offset 28
    __u16 pad;           //                                           offset 30
    __u8 local_addr[16]; // IPv4 in the first 4 bytes                 offset 32
    __u8 remote_addr[16];//                                           offset 48
    char comm[16];       //                                           offset 64
};                       // 80 bytes
