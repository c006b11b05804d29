// The record process.bpf.c writes to its ring buffer; ProcessEvent.swift reads it at these
// offsets (all fields naturally aligned, no padding).
#pragma once

#define PROCESS_EXEC 1
#define PROCESS_EXIT 2

struct process_event {
    __u64 time_ns;       // CLOCK_MONOTONIC (bpf_ktime_get_ns)          offset 0
    __u64 duration_ns;   // exit: since the process started             offset 8
    __u64 cgroup_id;     //                                             offset 16
    __u32 kind;          // PROCESS_EXEC or PROCESS_EXIT                offset 24
    __u32 pid;           //                                             offset 28
    __u32 ppid;          //                                             offset 32
    __s32 exit_code;     // exit: the status passed to exit()           offset 36
    __u32 exit_signal;   // exit: the signal that killed it (0: none)   offset 40
    char comm[16];       //                                             offset 44
    char filename[256];  // exec: the executable's path                 offset 60
};
