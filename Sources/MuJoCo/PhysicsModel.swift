import CMuJoCo
import Foundation

/// An owning handle on a compiled MuJoCo model (`mjModel`), freed when the last reference goes.
///
/// A model is read-only once loaded, so one instance may be shared by simulations on many threads.
public final class PhysicsModel: @unchecked Sendable {
    let raw: UnsafeMutablePointer<mjModel>
    /// Where the model came from: a file path, or a name given to an MJCF string.
    public let source: String

    /// Loads and compiles an MJCF (or MJB-free XML) file.
    public convenience init(contentsOf path: String) throws {
        _ = MuJoCoHandlers.installed
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw MuJoCoError.modelFileNotFound(path: path)
        }
        let raw = try Self.load(source: path) { error, capacity in
            mj_loadXML(path, nil, error, capacity)
        }
        self.init(raw: raw, source: path)
    }

    /// Compiles a model from MJCF text. `name` identifies it in error messages.
    public convenience init(xml: String, name: String = "model.xml") throws {
        _ = MuJoCoHandlers.installed
        let bytes = Array(xml.utf8)
        // MuJoCo treats an empty in-memory file as a fatal error, so it is refused here.
        guard !bytes.isEmpty else { throw MuJoCoError.modelLoadFailed(source: name, message: "the MJCF text is empty") }
        let vfs = UnsafeMutablePointer<mjVFS>.allocate(capacity: 1)
        mj_defaultVFS(vfs)
        defer {
            mj_deleteVFS(vfs)
            vfs.deallocate()
        }
        guard mj_makeEmptyFileVFS(vfs, name, Int32(bytes.count)) == 0 else {
            throw MuJoCoError.modelLoadFailed(source: name, message: "the MJCF text could not be staged in memory")
        }
        let index = Int(mj_findFileVFS(vfs, name))
        withUnsafeMutablePointer(to: &vfs.pointee.filedata) { table in
            table.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: Int(mjMAXVFS)) { files in
                bytes.withUnsafeBytes { files[index]!.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            }
        }
        let raw = try Self.load(source: name) { error, capacity in
            mj_loadXML(name, vfs, error, capacity)
        }
        self.init(raw: raw, source: name)
    }

    private init(raw: UnsafeMutablePointer<mjModel>, source: String) {
        self.raw = raw
        self.source = source
    }

    private static func load(
        source: String,
        _ loader: (UnsafeMutablePointer<CChar>, Int32) -> UnsafeMutablePointer<mjModel>?
    ) throws -> UnsafeMutablePointer<mjModel> {
        try checkLibraryVersion()
        let capacity = 1024
        var error = [CChar](repeating: 0, count: capacity)
        let model = error.withUnsafeMutableBufferPointer { loader($0.baseAddress!, Int32(capacity)) }
        guard let model else {
            let message = error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw MuJoCoError.modelLoadFailed(source: source, message: message.isEmpty ? "unknown error" : message)
        }
        return model
    }

    /// MuJoCo's structures change between versions, so headers of one version with the library of
    /// another read and write the wrong fields: a model is loaded only when the two agree.
    static func checkLibraryVersion(headers: Int = Int(mjVERSION_HEADER), library: Int = Int(mj_version())) throws {
        guard headers == library else { throw MuJoCoError.libraryVersionMismatch(headers: headers, library: library) }
    }

    deinit { mj_deleteModel(raw) }

    /// Number of generalized coordinates.
    public var nq: Int { Int(raw.pointee.nq) }
    /// Number of degrees of freedom.
    public var nv: Int { Int(raw.pointee.nv) }
    /// Number of actuators.
    public var nu: Int { Int(raw.pointee.nu) }
    /// Number of bodies, the world included.
    public var nbody: Int { Int(raw.pointee.nbody) }
    /// Number of geoms.
    public var ngeom: Int { Int(raw.pointee.ngeom) }
    /// The simulation time step in seconds.
    public var timestep: Double { raw.pointee.opt.timestep }
    /// The numerical integrator.
    public var integrator: Integrator { Integrator(rawValue: Int(raw.pointee.opt.integrator)) ?? .euler }
    /// The reference configuration that `mj_resetData` restores.
    public var qpos0: [Double] { Array(UnsafeBufferPointer(start: raw.pointee.qpos0, count: nq)) }
    /// Sum of all body masses, as compiled.
    public var totalMass: Double { mj_getTotalmass(raw) }

    /// Compiled mass of each body, the world body first.
    public var bodyMasses: [Double] { Array(UnsafeBufferPointer(start: raw.pointee.body_mass, count: nbody)) }

    /// The control range of each actuator as (low, high); nil for an actuator without limits.
    public var controlRanges: [ClosedRange<Double>?] {
        (0..<nu).map { i in
            guard raw.pointee.actuator_ctrllimited[i] != 0 else { return nil }
            return raw.pointee.actuator_ctrlrange[2 * i]...raw.pointee.actuator_ctrlrange[2 * i + 1]
        }
    }

    /// The name of object `id` of `kind`; nil when it has none.
    public func name(of kind: ObjectKind, id: Int) -> String? {
        mj_id2name(raw, Int32(kind.rawValue.rawValue), Int32(id)).map { String(cString: $0) }
    }

    /// The id of the named object, or nil when the model has none of that name.
    public func id(of kind: ObjectKind, named name: String) -> Int? {
        let id = mj_name2id(raw, Int32(kind.rawValue.rawValue), name)
        return id < 0 ? nil : Int(id)
    }
}

/// MuJoCo's numerical integrators (`mjtIntegrator`).
public enum Integrator: Int, Sendable {
    case euler = 0
    case rk4 = 1
    case implicit = 2
}

/// Kinds of named model objects, for `PhysicsModel.id(of:named:)`.
public enum ObjectKind: Sendable {
    case body, joint, geom, site, actuator, camera

    var rawValue: mjtObj {
        switch self {
        case .body: return mjOBJ_BODY
        case .joint: return mjOBJ_JOINT
        case .geom: return mjOBJ_GEOM
        case .site: return mjOBJ_SITE
        case .actuator: return mjOBJ_ACTUATOR
        case .camera: return mjOBJ_CAMERA
        }
    }
}

/// The version of the linked MuJoCo library, e.g. "2.2.2".
public var mujocoVersion: String { String(cString: mj_versionString()) }
