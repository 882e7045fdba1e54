/// A bounds-checked, writable view of one of MuJoCo's state arrays. It holds a reference to its
/// simulation, so the memory it points into stays valid for as long as the view exists.
public struct StateVector: RandomAccessCollection, MutableCollection, @unchecked Sendable {
    private let owner: Simulation
    private let base: UnsafeMutablePointer<Double>
    public let count: Int

    init(owner: Simulation, base: UnsafeMutablePointer<Double>, count: Int) {
        self.owner = owner
        self.base = base
        self.count = count
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(index: Int) -> Double {
        get {
            precondition(index >= 0 && index < count, "index \(index) out of range 0..<\(count)")
            return base[index]
        }
        nonmutating set {
            precondition(index >= 0 && index < count, "index \(index) out of range 0..<\(count)")
            base[index] = newValue
        }
    }

    /// Copies `values` in; their count must equal the view's (checked by the caller).
    func assign(_ values: some Collection<Double>) {
        precondition(values.count == count)
        for (offset, value) in values.enumerated() { base[offset] = value }
    }

    /// Copies `values` into the view after checking their count and that every value is finite.
    public func assign(checked values: some Collection<Double>, field: String) throws {
        try Self.validate(values, field: field, count: count)
        assign(values)
    }

    /// Copies the view into `destination` without allocating.
    public func copy(to destination: UnsafeMutableBufferPointer<Double>) {
        precondition(destination.count >= count)
        destination.baseAddress!.update(from: base, count: count)
        withExtendedLifetime(owner) {}
    }

    static func validate(_ values: some Collection<Double>, field: String, count: Int) throws {
        guard values.count == count else {
            throw MuJoCoError.sizeMismatch(field: field, expected: count, actual: values.count)
        }
        for (index, value) in values.enumerated() where !value.isFinite {
            throw MuJoCoError.nonFiniteValue(field: field, index: index, value: value)
        }
    }
}
