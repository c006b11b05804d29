// libbpf for loading eBPF probes (Debian: libbpf-dev).
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

// perf_event_open has no libc wrapper, and Swift cannot call the variadic syscall().
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int vigil_perf_event_open_cpu_clock(int cpu, unsigned long long frequency) {
    struct perf_event_attr attr = {0};
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.sample_freq = frequency;
    attr.freq = 1;
    return (int)syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}
