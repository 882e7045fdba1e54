// OpenBLAS's CBLAS interface (Debian's libopenblas-dev; pkg-config `openblas` gives the include path).
#include <cblas.h>
