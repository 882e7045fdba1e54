import CEGL
import CGLFW

/// Errors of the viewer and the recorder; each says what to do about it.
public enum ViewerError: Error, Equatable, CustomStringConvertible {
    /// GLFW could not open a window: no display, usually.
    case noDisplay(reason: String)
    /// No OpenGL context without a display (EGL's surfaceless platform is missing).
    case noHeadlessContext(reason: String)
    /// The recording's size or frame rate cannot be encoded.
    case invalidRecording(String)
    /// ffmpeg is not installed.
    case ffmpegNotFound
    /// ffmpeg stopped with an error; `message` is what it printed.
    case ffmpegFailed(path: String, status: Int32, message: String)
    /// libpng could not encode a frame.
    case pngFailed(path: String, message: String)

    public var description: String {
        switch self {
        case let .noDisplay(reason):
            return "cannot open the viewer's window (\(reason)). The viewer needs a display: run it on a desktop, "
                + "or under Xvfb (xvfb-run -a swift run rollout ... --viewer). --record and --frames need no display."
        case let .noHeadlessContext(reason):
            return "cannot create an OpenGL context without a display (\(reason)); "
                + "install Mesa's EGL (Debian: libegl1 libegl-mesa0) or a GPU driver with EGL"
        case let .invalidRecording(message):
            return message
        case .ffmpegNotFound:
            return "ffmpeg not found on PATH: install it (Debian: ffmpeg) to record video, or write PNG frames with --frames DIR"
        case let .ffmpegFailed(path, status, message):
            return "ffmpeg failed writing \(path) (exit status \(status)): \(message)"
        case let .pngFailed(path, message):
            return "cannot write the PNG frame \(path): \(message)"
        }
    }
}

/// An OpenGL context with no window and no display, on EGL's surfaceless platform (Mesa renders
/// in software; a GPU driver's EGL works too). Current on the creating thread until released.
///
/// EGL hands every caller the same display for the same platform, so the display stays
/// initialized for the life of the process: terminating it would pull it from under other
/// recorders on other threads.
final class HeadlessGLContext {
    private let display: EGLDisplay
    private let context: EGLContext

    init() throws {
        var display = cegl_surfaceless_display()
        if display == nil { display = eglGetDisplay(nil) }
        var major: EGLint = 0, minor: EGLint = 0
        guard let display, eglInitialize(display, &major, &minor) == EGLBoolean(EGL_TRUE) else {
            throw ViewerError.noHeadlessContext(reason: "eglInitialize failed, EGL error \(Self.lastError)")
        }
        let attributes: [EGLint] = [
            EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8, EGL_DEPTH_SIZE, 24,
            EGL_STENCIL_SIZE, 8, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_NONE,
        ]
        var config: EGLConfig?
        var count: EGLint = 0
        guard eglChooseConfig(display, attributes, &config, 1, &count) == EGLBoolean(EGL_TRUE), count > 0,
              eglBindAPI(EGLenum(EGL_OPENGL_API)) == EGLBoolean(EGL_TRUE),
              let context = eglCreateContext(display, config, nil, nil)
        else {
            throw ViewerError.noHeadlessContext(reason: "no RGBA8 OpenGL configuration, EGL error \(Self.lastError)")
        }
        guard eglMakeCurrent(display, nil, nil, context) == EGLBoolean(EGL_TRUE) else {
            eglDestroyContext(display, context)
            throw ViewerError.noHeadlessContext(reason: "eglMakeCurrent failed, EGL error \(Self.lastError)")
        }
        self.display = display
        self.context = context
    }

    deinit {
        eglMakeCurrent(display, nil, nil, nil)
        eglDestroyContext(display, context)
    }

    private static var lastError: String { "0x" + String(eglGetError(), radix: 16) }
}

/// A GLFW window with its OpenGL context current on the creating (main) thread.
final class Window {
    let handle: OpaquePointer

    init(title: String, width: Int, height: Int) throws {
        guard glfwInit() == GLFW_TRUE else { throw ViewerError.noDisplay(reason: Self.lastError) }
        glfwWindowHint(GLFW_SAMPLES, 4)
        guard let handle = glfwCreateWindow(Int32(width), Int32(height), title, nil, nil) else {
            let reason = Self.lastError
            glfwTerminate()
            throw ViewerError.noDisplay(reason: reason)
        }
        self.handle = handle
        glfwMakeContextCurrent(handle)
        glfwSwapInterval(1)
    }

    deinit {
        glfwDestroyWindow(handle)
        glfwTerminate()
    }

    /// Size of the framebuffer in pixels (larger than the window's size on high-DPI screens).
    var framebufferSize: (width: Int, height: Int) {
        var width: Int32 = 0, height: Int32 = 0
        glfwGetFramebufferSize(handle, &width, &height)
        return (Int(width), Int(height))
    }

    /// Height of the window in screen coordinates, the unit of mouse positions.
    var windowHeight: Int {
        var width: Int32 = 0, height: Int32 = 0
        glfwGetWindowSize(handle, &width, &height)
        return Int(height)
    }

    var shouldClose: Bool { glfwWindowShouldClose(handle) == GLFW_TRUE }

    private static var lastError: String {
        var description: UnsafePointer<CChar>?
        let code = glfwGetError(&description)
        guard code != GLFW_NO_ERROR, let description else { return "GLFW reported no reason" }
        return String(cString: description)
    }
}
