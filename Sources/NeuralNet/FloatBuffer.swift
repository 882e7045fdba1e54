/// A fixed-size Float32 buffer owned by a class: hot paths take its pointer without the
/// exclusivity and copy-on-write checks of an array, and nothing is reallocated after creation.
public final class FloatBuffer {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// Bytes a buffer's start is aligned to: a cache line, so that a vector of 16 floats never
    /// straddles two (malloc aligns large blocks to 16 bytes, which split every other AVX-512 store).
    private static let alignment = 64

    public init(count: Int) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: Self.alignment)
            .bindMemory(to: Float.self, capacity: max(count, 1))
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

/// Copies a block of `columns` columns between row-major matrices of `rows` rows: row r's floats from
/// `source + r * sourceStride` to `destination + r * destinationStride`. Element by element, since a
/// memmove call for each row of a few floats costs more than the copy (networks' inputs are
/// assembled this way from states, actions and time features).
@inlinable
public func copyColumns(_ columns: Int, rows: Int, from source: UnsafePointer<Float>, stride sourceStride: Int,
                        to destination: UnsafeMutablePointer<Float>, stride destinationStride: Int) {
    for row in 0..<rows {
        let from = source + row * sourceStride, to = destination + row * destinationStride
        for column in 0..<columns { to[column] = from[column] }
    }
}
