// zlib (gzip-compressed corpora).
#include <zlib.h>
