import CMuJoCo

/// A rectangle of the framebuffer in pixels, from the bottom-left corner (OpenGL's convention).
public struct PixelRect: Sendable, Equatable {
    public var left: Int
    public var bottom: Int
    public var width: Int
    public var height: Int

    public init(left: Int, bottom: Int, width: Int, height: Int) {
        self.left = left
        self.bottom = bottom
        self.width = width
        self.height = height
    }

    var raw: mjrRect { mjrRect(left: Int32(left), bottom: Int32(bottom), width: Int32(width), height: Int32(height)) }
}

/// An RGB colour with components in 0...1.
public struct Color: Sendable, Equatable {
    public var red: Float
    public var green: Float
    public var blue: Float

    public init(_ red: Float, _ green: Float, _ blue: Float) {
        self.red = red
        self.green = green
        self.blue = blue
    }
}

/// How the renderer's camera is placed (`mjvCamera.type`).
public enum CameraMode: Sendable, Equatable {
    /// Follows a body's subtree centre of mass at a distance the mouse can change.
    case tracking(body: Int)
    /// Placed freely with the mouse.
    case free
    /// One of the model's own cameras, by index.
    case fixed(camera: Int)
}

/// What a mouse drag or scroll does to the camera, as in MuJoCo's simulate (`mjtMouse`).
public enum CameraMotion: Sendable {
    case rotateVertical, rotateHorizontal, moveVertical, moveHorizontal, zoom

    var raw: mjtMouse {
        switch self {
        case .rotateVertical: return mjMOUSE_ROTATE_V
        case .rotateHorizontal: return mjMOUSE_ROTATE_H
        case .moveVertical: return mjMOUSE_MOVE_V
        case .moveHorizontal: return mjMOUSE_MOVE_H
        case .zoom: return mjMOUSE_ZOOM
        }
    }
}

/// Text placement for `overlay`, a corner of the viewport (`mjtGridPos`).
public enum OverlayCorner: Sendable {
    case topLeft, topRight, bottomLeft, bottomRight

    var raw: mjtGridPos {
        switch self {
        case .topLeft: return mjGRID_TOPLEFT
        case .topRight: return mjGRID_TOPRIGHT
        case .bottomLeft: return mjGRID_BOTTOMLEFT
        case .bottomRight: return mjGRID_BOTTOMRIGHT
        }
    }
}

/// A shape drawn into the scene beside the model's own geoms, a visual cue (a goal) that takes no
/// part in the physics.
public struct SceneMarker: Sendable {
    public enum Shape: Sendable {
        /// A vertical cylinder standing on `position`.
        case cylinder(radius: Double, height: Double)
        case sphere(radius: Double)
    }

    public var shape: Shape
    public var position: (x: Double, y: Double, z: Double)
    public var color: Color
    public var alpha: Float

    public init(_ shape: Shape, at position: (x: Double, y: Double, z: Double), color: Color, alpha: Float = 1) {
        self.shape = shape
        self.position = position
        self.color = color
        self.alpha = alpha
    }
}

/// MuJoCo's renderer for one model: the abstract scene (`mjvScene`), the OpenGL resources
/// (`mjrContext`), visual options and a camera; all are freed in deinit.
///
/// The OpenGL context must be current on the calling thread for every call and when the renderer is
/// released; MuJoCo loads the OpenGL functions from whichever library made it (GLX, EGL or OSMesa).
public final class SceneRenderer {
    public let model: PhysicsModel
    private let scene: UnsafeMutablePointer<mjvScene>
    private let context: UnsafeMutablePointer<mjrContext>
    /// The OpenGL context's owner, kept alive until the renderer has freed its objects in it.
    private let graphicsContext: AnyObject
    private var options = mjvOption()
    private var camera = mjvCamera()
    /// The camera of `renderFromAbove`, apart from the interactive one.
    private var overheadCamera = mjvCamera()
    /// The camera as last set; the mouse moves the tracking and free cameras within their mode.
    public private(set) var cameraMode: CameraMode = .free

    /// Makes the scene and uploads the model's meshes and textures into the OpenGL context that
    /// `graphicsContext` owns, which must be current. `offscreen` sizes the offscreen
    /// framebuffer, which the model's `<visual><global offwidth offheight>` otherwise decides;
    /// MuJoCo reads that setting from the model, so a larger size is written there (a visual
    /// setting only, the physics do not read it). Where MuJoCo cannot set up the context (a buffer
    /// larger than the OpenGL driver allows) it throws with MuJoCo's message.
    public init(model: PhysicsModel, graphicsContext: AnyObject, offscreen: (width: Int, height: Int)? = nil,
                fontScale: Int = 100, maxGeoms: Int = 2000) throws {
        self.model = model
        self.graphicsContext = graphicsContext
        let modelOffscreen = (model.raw.pointee.vis.global.offwidth, model.raw.pointee.vis.global.offheight)
        if let offscreen {
            model.raw.pointee.vis.global.offwidth = max(model.raw.pointee.vis.global.offwidth, Int32(offscreen.width))
            model.raw.pointee.vis.global.offheight = max(model.raw.pointee.vis.global.offheight, Int32(offscreen.height))
        }
        scene = .allocate(capacity: 1)
        context = .allocate(capacity: 1)
        mjv_defaultScene(scene)
        mjr_defaultContext(context)
        mjv_defaultOption(&options)
        mjv_defaultCamera(&camera)
        mjv_makeScene(model.raw, scene, Int32(maxGeoms))
        if let message = cmujoco_guarded_make_context(model.raw, context, Int32(fontScale)) {
            // deinit frees the scene and what there is of the context; the model keeps its own size.
            let global = model.raw.pointee.vis.global
            let failure = MuJoCoError.renderingSetupFailed(
                model: model.source, offscreen: "\(global.offwidth)x\(global.offheight)", message: String(cString: message))
            (model.raw.pointee.vis.global.offwidth, model.raw.pointee.vis.global.offheight) = modelOffscreen
            throw failure
        }
        setCamera(.free)
    }

    deinit {
        mjr_freeContext(context)
        mjv_freeScene(scene)
        context.deallocate()
        scene.deallocate()
    }

    /// Size of the offscreen framebuffer in pixels.
    public var offscreenSize: (width: Int, height: Int) { (Int(context.pointee.offWidth), Int(context.pointee.offHeight)) }

    /// Height of a line of the normal font in pixels, for laying out overlays.
    public var lineHeight: Int { Int(context.pointee.charHeight) }

    /// Number of cameras the model defines.
    public var modelCameraCount: Int { Int(model.raw.pointee.ncam) }

    /// The name of the model's camera `index`, or "camera `index`" when it has none.
    public func modelCameraName(_ index: Int) -> String {
        model.name(of: .camera, id: index) ?? "camera \(index)"
    }

    public func setCamera(_ mode: CameraMode) {
        cameraMode = mode
        switch mode {
        case let .tracking(body):
            camera.type = Int32(mjCAMERA_TRACKING.rawValue)
            camera.trackbodyid = Int32(body)
            camera.fixedcamid = -1
        case .free:
            camera.type = Int32(mjCAMERA_FREE.rawValue)
            camera.trackbodyid = -1
            camera.fixedcamid = -1
        case let .fixed(index):
            camera.type = Int32(mjCAMERA_FIXED.rawValue)
            camera.fixedcamid = Int32(index)
        }
    }

    /// Looks at the model from `distance`, `elevation` degrees above the horizon and `azimuth`
    /// degrees around the vertical axis (the tracking and free cameras).
    public func setCameraPose(distance: Double, elevation: Double, azimuth: Double) {
        camera.distance = distance
        camera.elevation = elevation
        camera.azimuth = azimuth
    }

    /// Moves the camera by a mouse motion of (dx, dy), in fractions of the viewport's height.
    public func moveCamera(_ motion: CameraMotion, dx: Double, dy: Double) {
        guard camera.type != Int32(mjCAMERA_FIXED.rawValue) else { return }
        mjv_moveCamera(model.raw, Int32(motion.raw.rawValue), dx, dy, scene, &camera)
    }

    /// Draws `simulation`'s current state, and `markers`, into `viewport` of the current framebuffer.
    public func render(_ simulation: Simulation, viewport: PixelRect, markers: [SceneMarker] = []) {
        draw(simulation, from: &camera, viewport: viewport, markers: markers)
    }

    /// Draws the scene seen straight from above, +x to the right and +y up, centred on `centre` and
    /// wide enough to show `halfExtent` around it on both axes; the interactive camera stays as it is.
    public func renderFromAbove(_ simulation: Simulation, viewport: PixelRect, centre: (x: Double, y: Double),
                                halfExtent: (x: Double, y: Double), markers: [SceneMarker] = []) {
        let halfAngle = Double(model.raw.pointee.vis.global.fovy) / 2 * .pi / 180
        let aspect = Double(viewport.width) / Double(max(viewport.height, 1))
        overheadCamera.type = Int32(mjCAMERA_FREE.rawValue)
        overheadCamera.lookat = (centre.x, centre.y, 0)
        overheadCamera.elevation = -90
        overheadCamera.azimuth = 90
        overheadCamera.distance = 1.05 * max(halfExtent.y, halfExtent.x / aspect) / tan(halfAngle)
        draw(simulation, from: &overheadCamera, viewport: viewport, markers: markers)
    }

    private func draw(_ simulation: Simulation, from camera: inout mjvCamera, viewport: PixelRect, markers: [SceneMarker]) {
        precondition(simulation.model === model, "a simulation of another model")
        simulation.withUnsafePointers { model, data in
            mjv_updateScene(model, data, &options, nil, &camera, Int32(mjCAT_ALL.rawValue), scene)
        }
        for marker in markers where scene.pointee.ngeom < scene.pointee.maxgeom {
            add(marker)
        }
        mjr_render(viewport.raw, scene, context)
    }

    private func add(_ marker: SceneMarker) {
        let (type, size, lift): (mjtGeom, [Double], Double) = switch marker.shape {
        case let .cylinder(radius, height): (mjGEOM_CYLINDER, [radius, radius, height / 2], height / 2)
        case let .sphere(radius): (mjGEOM_SPHERE, [radius, radius, radius], 0)
        }
        let position = [marker.position.x, marker.position.y, marker.position.z + lift]
        let rgba: [Float] = [marker.color.red, marker.color.green, marker.color.blue, marker.alpha]
        let geom = scene.pointee.geoms + Int(scene.pointee.ngeom)
        mjv_initGeom(geom, Int32(type.rawValue), size, position, nil, rgba)
        geom.pointee.category = Int32(mjCAT_DECOR.rawValue)
        scene.pointee.ngeom += 1
    }

    /// Renders into the offscreen framebuffer from now on (the window's otherwise).
    public func useOffscreenBuffer() {
        mjr_setBuffer(Int32(mjFB_OFFSCREEN.rawValue), context)
    }

    /// Reads the RGB pixels of `viewport`, bottom row first, three bytes per pixel.
    public func readPixels(_ viewport: PixelRect, into rgb: UnsafeMutableBufferPointer<UInt8>) {
        precondition(rgb.count >= viewport.width * viewport.height * 3, "pixel buffer too small")
        mjr_readPixels(rgb.baseAddress, nil, viewport.raw, context)
    }

    /// Two columns of text (labels and values, lines separated by "\n") in a corner of `viewport`.
    public func overlay(_ labels: String, _ values: String = "", corner: OverlayCorner, viewport: PixelRect,
                        big: Bool = false) {
        let font = big ? mjFONT_BIG : mjFONT_SHADOW
        mjr_overlay(Int32(font.rawValue), Int32(corner.raw.rawValue), viewport.raw, labels, values, context)
    }

    /// A filled rectangle, e.g. a bar of an overlay.
    public func rectangle(_ rect: PixelRect, _ color: Color, alpha: Float = 1) {
        mjr_rectangle(rect.raw, color.red, color.green, color.blue, alpha)
    }

    /// `text` centred in `rect` over a background of `background`.
    public func label(_ text: String, in rect: PixelRect, background: Color, alpha: Float = 1, textColor: Color) {
        mjr_label(rect.raw, Int32(mjFONT_NORMAL.rawValue), text, background.red, background.green, background.blue, alpha,
                  textColor.red, textColor.green, textColor.blue, context)
    }

    /// Where `point` (world coordinates) appeared in `viewport` in the last rendered frame, in
    /// pixels from the bottom-left corner; nil when it lay behind the camera.
    public func pixel(of point: (x: Double, y: Double, z: Double), viewport: PixelRect) -> (x: Double, y: Double)? {
        var leftEye = scene.pointee.camera.0, rightEye = scene.pointee.camera.1
        let eye = mjv_averageCamera(&leftEye, &rightEye)
        let forward = Vector3(eye.forward), up = Vector3(eye.up)
        let right = forward.cross(up)
        let offset = Vector3(point.x, point.y, point.z) - Vector3(eye.pos)
        let depth = offset.dot(forward)
        guard depth > 0 else { return nil }
        // mjr_render's frustum: [center ± half width] × [bottom, top] at the near plane, the half
        // width following the viewport's aspect ratio.
        let near = Double(eye.frustum_near), bottom = Double(eye.frustum_bottom), top = Double(eye.frustum_top)
        let halfWidth: Double = 0.5 * Double(viewport.width) / Double(viewport.height) * (top - bottom)
        let nearX: Double = offset.dot(right) * near / depth
        let nearY: Double = offset.dot(up) * near / depth
        let ndcX: Double = (nearX - Double(eye.frustum_center)) / halfWidth
        let ndcY: Double = (nearY - 0.5 * (top + bottom)) / (0.5 * (top - bottom))
        return (Double(viewport.left) + (ndcX + 1) / 2 * Double(viewport.width),
                Double(viewport.bottom) + (ndcY + 1) / 2 * Double(viewport.height))
    }
}

private struct Vector3 {
    var x: Double, y: Double, z: Double

    init(_ x: Double, _ y: Double, _ z: Double) {
        self.x = x
        self.y = y
        self.z = z
    }

    init(_ v: (Float, Float, Float)) { self.init(Double(v.0), Double(v.1), Double(v.2)) }

    static func - (a: Vector3, b: Vector3) -> Vector3 { Vector3(a.x - b.x, a.y - b.y, a.z - b.z) }
    func dot(_ b: Vector3) -> Double { x * b.x + y * b.y + z * b.z }
    func cross(_ b: Vector3) -> Vector3 { Vector3(y * b.z - z * b.y, z * b.x - x * b.z, x * b.y - y * b.x) }
}

extension Simulation {
    /// World position of a body's frame (`xpos`), as of the last step or forward pass.
    public func bodyPosition(_ body: Int) -> (x: Double, y: Double, z: Double) {
        precondition((0..<model.nbody).contains(body), "body \(body) out of range")
        let xpos = raw.pointee.xpos!
        return (xpos[3 * body], xpos[3 * body + 1], xpos[3 * body + 2])
    }
}
