// gzip decompression for the RCA datasets' .csv.gz files (Debian: zlib1g-dev).
#include <zlib.h>
