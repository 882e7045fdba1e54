import CMuJoCo

/// An owning handle on MuJoCo's simulation state (`mjData`) for one model.
///
/// A simulation is a plain state machine: use it from one thread at a time. Many simulations of one
/// model may run on different threads at once.
public final class Simulation: @unchecked Sendable {
    public let model: PhysicsModel
    let raw: UnsafeMutablePointer<mjData>

    public init(model: PhysicsModel) throws {
        guard let raw = mj_makeData(model.raw) else {
            throw MuJoCoError.dataAllocationFailed(model: model.source)
        }
        self.model = model
        self.raw = raw
    }

    deinit { mj_deleteData(raw) }

    /// Generalized positions (`nq`).
    public var qpos: StateVector { StateVector(owner: self, base: raw.pointee.qpos, count: model.nq) }
    /// Generalized velocities (`nv`).
    public var qvel: StateVector { StateVector(owner: self, base: raw.pointee.qvel, count: model.nv) }
    /// Actuator controls (`nu`). MuJoCo clamps them to each actuator's control range when it applies them.
    public var ctrl: StateVector { StateVector(owner: self, base: raw.pointee.ctrl, count: model.nu) }
    /// Generalized accelerations of the last step or forward pass (`nv`).
    public var qacc: StateVector { StateVector(owner: self, base: raw.pointee.qacc, count: model.nv) }
    /// Simulated time in seconds.
    public var time: Double { raw.pointee.time }

    /// Advances the simulation by one time step (`mj_step`) and returns the instability warnings it
    /// raised. On a bad position, velocity or acceleration MuJoCo resets the state to `qpos0`, so a
    /// non-empty result means the trajectory is broken.
    @discardableResult
    public func step() -> PhysicsWarnings {
        clearWarnings()
        mj_step(model.raw, raw)
        return warnings
    }

    /// Advances the simulation by `frames` time steps, stopping early at an instability; returns the
    /// warnings of the last step that raised any (empty when none did).
    @discardableResult
    public func step(frames: Int) -> PhysicsWarnings {
        var raised = PhysicsWarnings()
        for _ in 0..<frames {
            let warnings = step()
            if !warnings.isEmpty {
                raised = warnings
                if warnings.isUnstable { break }
            }
        }
        return raised
    }

    /// Computes every derived quantity for the current state without advancing time (`mj_forward`).
    @discardableResult
    public func forward() -> PhysicsWarnings {
        clearWarnings()
        mj_forward(model.raw, raw)
        return warnings
    }

    /// Restores the model's default state (`mj_resetData`): qpos0, zero velocity, time and controls.
    public func reset() {
        mj_resetData(model.raw, raw)
    }

    /// Resets, then places the simulation at the given state and runs a forward pass: the same state
    /// every time for the same numbers, whatever happened before.
    public func setState(qpos: some Collection<Double>, qvel: some Collection<Double>) throws {
        try StateVector.validate(qpos, field: "qpos", count: model.nq)
        try StateVector.validate(qvel, field: "qvel", count: model.nv)
        reset()
        self.qpos.assign(qpos)
        self.qvel.assign(qvel)
        forward()
    }

    /// The warnings raised since they were last cleared (at the start of `step()` and `forward()`).
    public var warnings: PhysicsWarnings {
        withUnsafePointer(to: &raw.pointee.warning) { table in
            table.withMemoryRebound(to: mjWarningStat.self, capacity: Int(mjNWARNING.rawValue)) { stats in
                var found = PhysicsWarnings()
                for kind in PhysicsWarnings.Kind.allCases where stats[kind.index].number > 0 {
                    found.insert(kind, at: Int(stats[kind.index].lastinfo))
                }
                return found
            }
        }
    }

    private func clearWarnings() {
        withUnsafeMutablePointer(to: &raw.pointee.warning) { table in
            table.withMemoryRebound(to: mjWarningStat.self, capacity: Int(mjNWARNING.rawValue)) { stats in
                stats.update(repeating: mjWarningStat(lastinfo: 0, number: 0), count: Int(mjNWARNING.rawValue))
            }
        }
    }

    /// Gives the C model and data to `body`, e.g. for MuJoCo's rendering functions. The pointers must
    /// not escape `body`; both stay alive until `body` returns.
    public func withUnsafePointers<R>(
        _ body: (UnsafeMutablePointer<mjModel>, UnsafeMutablePointer<mjData>) throws -> R
    ) rethrows -> R {
        try withExtendedLifetime(self) { try body(model.raw, raw) }
    }
}
