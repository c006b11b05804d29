// libbpf for loading eBPF probes (Debian: libbpf-dev).
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
