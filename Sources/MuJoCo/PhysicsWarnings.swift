import CMuJoCo

/// The warnings MuJoCo raised during a step, each with the index it reported (a DOF, an actuator).
public struct PhysicsWarnings: Sendable, Equatable, CustomStringConvertible {
    /// MuJoCo's warning kinds (`mjtWarning`).
    public enum Kind: Int, CaseIterable, Sendable {
        case inertia, contactFull, constraintFull, visualGeomFull, badQpos, badQvel, badQacc, badCtrl

        var index: Int { rawValue }

        /// The kinds that mean the simulation diverged and MuJoCo reset its state.
        public static let instabilities: Set<Kind> = [.badQpos, .badQvel, .badQacc, .badCtrl]

        var text: String {
            switch self {
            case .inertia: return "(near) singular inertia matrix"
            case .contactFull: return "too many contacts"
            case .constraintFull: return "too many constraints"
            case .visualGeomFull: return "too many visual geoms"
            case .badQpos: return "NaN, Inf or huge value in qpos"
            case .badQvel: return "NaN, Inf or huge value in qvel"
            case .badQacc: return "NaN, Inf or huge value in qacc"
            case .badCtrl: return "NaN, Inf or huge value in ctrl"
            }
        }
    }

    /// Each raised kind with the index MuJoCo reported for its last occurrence.
    public private(set) var raised: [(kind: Kind, index: Int)] = []

    public init() {}

    mutating func insert(_ kind: Kind, at index: Int) { raised.append((kind, index)) }

    public var isEmpty: Bool { raised.isEmpty }
    public func contains(_ kind: Kind) -> Bool { raised.contains { $0.kind == kind } }
    /// True when MuJoCo found the state numerically broken (and reset it).
    public var isUnstable: Bool { raised.contains { Kind.instabilities.contains($0.kind) } }

    public var description: String {
        raised.map { "\($0.kind.text) (index \($0.index))" }.joined(separator: "; ")
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.raised.elementsEqual(rhs.raised) { $0.kind == $1.kind && $0.index == $1.index }
    }
}
