// EGL (libglvnd's libEGL with Mesa or a GPU driver): an OpenGL context without any display, for
// headless recording on servers and in CI.
#include <stddef.h>
#include <EGL/egl.h>
#include <EGL/eglext.h>

// eglGetPlatformDisplayEXT is an extension function, reached through eglGetProcAddress; Mesa's
// surfaceless platform renders offscreen with no X server, no Wayland compositor and no GPU.
static inline EGLDisplay cegl_surfaceless_display(void) {
  PFNEGLGETPLATFORMDISPLAYEXTPROC get_platform_display =
      (PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
  if (!get_platform_display) return EGL_NO_DISPLAY;
  return get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
}
