/// A fixed-size Float32 buffer owned by a class: hot paths take its pointer without the
/// exclusivity and copy-on-write checks of an array, and nothing is reallocated after creation.
public final class FloatBuffer {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        pointer.update(from: values, count: values.count)
    }

    deinit { pointer.deallocate() }

    public subscript(index: Int) -> Float {
        get {
            precondition(index >= 0 && index < count, "index \(index) out of range 0..<\(count)")
            return pointer[index]
        }
        set {
            precondition(index >= 0 && index < count, "index \(index) out of range 0..<\(count)")
            pointer[index] = newValue
        }
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }
}
