// zstd compression for checkpoint files (Debian: libzstd-dev).
#include <zstd.h>
