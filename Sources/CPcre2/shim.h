// PCRE2 (Debian's libpcre2-dev) with 8-bit code units: the regex engine behind user-given
// masks and Loghub log formats. Its syntax is Python's (lookbehind, \d, \b, lazy quantifiers,
// (?P<name>...)), which is how Loghub's settings.json writes them. Swift cannot import the
// width-generic macro names (pcre2_compile), so callers use the _8 functions.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
