// Debian's libmujoco-dev puts the headers in /usr/include/mujoco and ships no pkg-config file.
#include <mujoco/mujoco.h>
#include <setjmp.h>
#include <stddef.h>
#include <string.h>

// Swift 6 refuses to write C globals directly; this sets MuJoCo's process-wide message handlers.
static inline void cmujoco_set_handlers(void (*warning)(const char*), void (*error)(const char*)) {
  mju_user_warning = warning;
  mju_user_error = error;
}

// MuJoCo's fatal errors (mju_error) call the user error handler, which must not return. A call made
// through a cmujoco_guarded_ function swaps in a handler that jumps back to it, so that a failure the
// caller can provoke (an offscreen framebuffer the OpenGL driver refuses, say) comes back as a message
// instead of ending the process; an error on another thread meanwhile goes to the handler before.
// The state lives in function-local statics because the Swift compiler emits the header's functions
// into each object file that calls them, but not its file-scope variables.
static inline jmp_buf **cmujoco_guard(void) {
  static _Thread_local jmp_buf *jump;
  return &jump;
}

static inline char *cmujoco_guard_message(void) {
  static _Thread_local char message[1024];
  return message;
}

static inline void (**cmujoco_unguarded_error(void))(const char*) {
  static void (*handler)(const char*);
  return &handler;
}

static inline void cmujoco_guarded_error(const char* message) {
  jmp_buf *jump = *cmujoco_guard();
  if (!jump) {
    (*cmujoco_unguarded_error())(message);
    return;
  }
  strncpy(cmujoco_guard_message(), message ? message : "unknown error", 1023);
  cmujoco_guard_message()[1023] = 0;
  longjmp(*jump, 1);
}

// mjr_makeContext, returning MuJoCo's message (NULL on success). On failure the partly made context
// is freed again. Rendering contexts are made on one thread at a time.
static inline const char* cmujoco_guarded_make_context(const mjModel* model, mjrContext* context, int font_scale) {
  jmp_buf jump;
  *cmujoco_unguarded_error() = mju_user_error;
  mju_user_error = cmujoco_guarded_error;
  if (setjmp(jump)) {
    *cmujoco_guard() = NULL;
    mju_user_error = *cmujoco_unguarded_error();
    mjr_freeContext(context);
    return cmujoco_guard_message();
  }
  *cmujoco_guard() = &jump;
  mjr_makeContext(model, context, font_scale);
  *cmujoco_guard() = NULL;
  mju_user_error = *cmujoco_unguarded_error();
  return NULL;
}
