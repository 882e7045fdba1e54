/// Errors raised by the MuJoCo wrapper. Each names what it was working on, so a message alone says
/// which file or field is at fault.
public enum MuJoCoError: Error, Equatable, CustomStringConvertible {
    /// MuJoCo rejected a model; `message` is MuJoCo's own text.
    case modelLoadFailed(source: String, message: String)
    /// The model file does not exist or cannot be read.
    case modelFileNotFound(path: String)
    /// `mj_makeData` returned NULL (out of memory for this model's arena).
    case dataAllocationFailed(model: String)
    /// A state vector of the wrong length was handed to the simulator.
    case sizeMismatch(field: String, expected: Int, actual: Int)
    /// A state vector containing NaN or an infinity was handed to the simulator.
    case nonFiniteValue(field: String, index: Int, value: Double)
    /// MuJoCo could not set up rendering in the OpenGL context (e.g. an offscreen framebuffer larger
    /// than the driver allows); `message` is MuJoCo's own text.
    case renderingSetupFailed(model: String, offscreen: String, message: String)
    /// The MuJoCo library loaded at run time is not the version whose headers this package was compiled
    /// against (versions as `mj_version` gives them, 222 for 2.2.2): the structures' layouts differ.
    case libraryVersionMismatch(headers: Int, library: Int)

    public var description: String {
        switch self {
        case let .modelLoadFailed(source, message):
            return "MuJoCo could not load the model \(source): \(message)"
        case let .modelFileNotFound(path):
            return "model file not found: \(path)"
        case let .dataAllocationFailed(model):
            return "MuJoCo could not allocate simulation data for \(model)"
        case let .sizeMismatch(field, expected, actual):
            return "\(field) has \(actual) entries, the model needs \(expected)"
        case let .nonFiniteValue(field, index, value):
            return "\(field)[\(index)] is \(value); only finite values are accepted"
        case let .renderingSetupFailed(model, offscreen, message):
            return "MuJoCo could not set up rendering of \(model) (offscreen buffer \(offscreen)): \(message)"
        case let .libraryVersionMismatch(headers, library):
            return "the MuJoCo library loaded is version \(Self.version(library)), but this build was compiled against the "
                + "headers of \(Self.version(headers)), whose structures differ; install one MuJoCo (Debian's libmujoco-dev "
                + "2.2.2, as tools/setup does), make sure no other libmujoco comes first on the library path, and rebuild"
        }
    }

    /// 222 → "2.2.2".
    private static func version(_ number: Int) -> String { "\(number / 100).\(number / 10 % 10).\(number % 10)" }
}
