// GLFW 3.3 (Debian's libglfw3-dev): windows, an OpenGL context and input for the live viewer.
#include <GLFW/glfw3.h>
