// The key profile.bpf.c counts samples under; CPUProfiler.swift reads it at these offsets.
#pragma once

struct profile_key {
    __u32 pid;          // offset 0
    __s32 user_stack;   // stack id in `stacks`, negative: none (a kernel thread, or lost)  offset 4
    __s32 kernel_stack; //                                                                    offset 8
    char comm[16];      //                                                                    offset 12
};                      // 28 bytes
