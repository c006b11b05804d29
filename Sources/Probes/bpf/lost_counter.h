// What a probe's kernel side could not hand over (a full ring buffer or map): counted in
// element 0 of the `lost` array, which user space reads (BPFObject.counter("lost")) and
// reports, so that loss is never silent.
#pragma once

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} lost SEC(".maps");

static __always_inline void count_lost(void) {
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&lost, &zero);
    if (n) __sync_fetch_and_add(n, 1);
}
