// gzip: decompression of the RCA datasets' .csv.gz files, compression of pprof profiles (Debian: zlib1g-dev).
#include <zlib.h>

// deflateInit2 is a macro over deflateInit2_ (Swift cannot call it): gzip framing (window
// bits 15 + 16), for pprof profiles.
static inline int vigil_deflate_init_gzip(z_stream *s, int level) {
    return deflateInit2(s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
