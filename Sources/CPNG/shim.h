// libpng 1.6 (Debian's libpng-dev): PNG frames of headless recordings, through its simplified API.
#include <png.h>
