// Debian's libmujoco-dev puts the headers in /usr/include/mujoco and ships no pkg-config file.
#include <mujoco/mujoco.h>

// Swift 6 refuses to write C globals directly; this sets MuJoCo's process-wide message handlers.
static inline void cmujoco_set_handlers(void (*warning)(const char*), void (*error)(const char*)) {
  mju_user_warning = warning;
  mju_user_error = error;
}
