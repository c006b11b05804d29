// The histogram key of syscalls.bpf.c; SyscallLatency.swift reads it at these offsets.
#pragma once

#define SYSCALL_BUCKETS 40   // bucket b: [2^b, 2^(b+1)) ns; bucket 0 also holds 0 and 1 ns

struct syscall_key {
    __u32 nr;       // offset 0
    __u32 bucket;   // offset 4
};
