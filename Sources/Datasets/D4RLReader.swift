import CHDF5
import Foundation

/// One open D4RL file being read; every error it throws names the file and the key.
struct D4RLReader {
    let path: String
    private let file: HDF5Handle

    init(path: String) throws(D4RLFileError) {
        guard access(path, R_OK) == 0 else {
            throw .cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        chdf5_silence_errors()
        guard let file = HDF5Handle(H5Fopen(path, chdf5_read_only(), chdf5_default()), .file) else {
            throw .notHDF5(path: path)
        }
        self.path = path
        self.file = file
    }

    /// `read(key)` when the file has `key`, nil when it does not.
    func optional<Value>(_ key: String, _ read: (String) throws(D4RLFileError) -> Value) throws(D4RLFileError) -> Value? {
        exists(key) ? try read(key) : nil
    }

    /// A numeric dataset of shape (N,) or (N, columns) as float32.
    func floats(_ key: String) throws(D4RLFileError) -> D4RLMatrix {
        try floats(open(key))
    }

    /// A numeric dataset that must have as many columns as `reference`, which has `width`.
    func floats(_ key: String, width: Int, of reference: String) throws(D4RLFileError) -> D4RLMatrix {
        let matrix = try floats(key)
        guard matrix.width == width else {
            throw .columnMismatch(path: path, key: key, columns: matrix.width, reference: reference, referenceColumns: width)
        }
        return matrix
    }

    /// A numeric vector, (N,) or (N, 1), as float32.
    func vector(_ key: String) throws(D4RLFileError) -> [Float] {
        let stored = try open(key)
        _ = try stored.vectorLength()
        return try floats(stored).values
    }

    /// A flag vector stored as h5py's bool enum, any integer type, or floats, holding 0 and 1 only:
    /// another value (0.5, 2, NaN) is an error, not a guess.
    func flags(_ key: String) throws(D4RLFileError) -> [Bool] {
        let stored = try open(key)
        let rows = try stored.vectorLength()
        let values: [Double]
        switch stored.typeClass {
        case H5T_INTEGER, H5T_ENUM, H5T_FLOAT:
            values = try stored.read(as: chdf5_native_double(), count: rows)
        default:
            throw .wrongType(path: path, key: key, found: describe(stored.typeClass))
        }
        if let row = values.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw .notAFlag(path: path, key: key, row: row, value: values[row])
        }
        return values.map { $0 == 1 }
    }

    /// A (N, columns) dataset as float32: observations and actions, which D4RL always stores as rows.
    func matrix(_ key: String) throws(D4RLFileError) -> D4RLMatrix {
        let stored = try open(key)
        guard stored.shape.count == 2 else {
            throw .wrongShape(path: path, key: key, shape: stored.shape, expected: "(N, columns)")
        }
        return try floats(stored)
    }

    private func floats(_ stored: StoredArray) throws(D4RLFileError) -> D4RLMatrix {
        guard stored.isNumeric else { throw .wrongType(path: path, key: stored.key, found: describe(stored.typeClass)) }
        let (rows, columns) = try stored.rowsAndColumns()
        return D4RLMatrix(width: columns, values: try stored.read(as: chdf5_native_float(), count: rows * columns))
    }

    /// Every numeric (N,) or (N, columns) dataset directly under infos/; other entries are skipped,
    /// since the loader ignores infos and a file should not fail over one it cannot use.
    func infos() throws(D4RLFileError) -> [String: D4RLMatrix] {
        guard exists("infos"), let group = HDF5Handle(H5Gopen2(file.id, "infos", chdf5_default()), .group) else {
            return [:]
        }
        var infos: [String: D4RLMatrix] = [:]
        for name in linkNames(in: group.id) where objectType(in: group.id, named: name) == H5I_DATASET {
            let stored = try open("infos/\(name)")
            if stored.isNumeric, (try? stored.rowsAndColumns()) != nil { infos[name] = try floats(stored) }
        }
        return infos
    }

    /// The simple values under metadata/, from its datasets and attributes at any depth; anything
    /// that is not one string or one number is skipped, since metadata is informative only.
    func metadata() -> [String: String] {
        guard exists("metadata"), let group = HDF5Handle(H5Gopen2(file.id, "metadata", chdf5_default()), .group) else {
            return [:]
        }
        var values: [String: String] = [:]
        collectMetadata(in: group, prefix: "", into: &values)
        return values
    }

    private func collectMetadata(in group: HDF5Handle, prefix: String, into values: inout [String: String]) {
        for name in attributeNames(of: group.id) {
            guard let attribute = HDF5Handle(H5Aopen(group.id, name, chdf5_default()), .attribute),
                  let type = HDF5Handle(H5Aget_type(attribute.id), .datatype),
                  let space = HDF5Handle(H5Aget_space(attribute.id), .dataspace) else { continue }
            values[prefix + name] = scalarText(type: type.id, space: space.id) { H5Aread(attribute.id, $0, $1) }
        }
        for name in linkNames(in: group.id) {
            guard let object = HDF5Handle(H5Oopen(group.id, name, chdf5_default()), .object) else { continue }
            switch H5Iget_type(object.id) {
            case H5I_GROUP:
                collectMetadata(in: object, prefix: "\(prefix)\(name)/", into: &values)
            case H5I_DATASET:
                guard let type = HDF5Handle(H5Dget_type(object.id), .datatype),
                      let space = HDF5Handle(H5Dget_space(object.id), .dataspace) else { continue }
                values[prefix + name] = scalarText(type: type.id, space: space.id) {
                    H5Dread(object.id, $0, chdf5_all(), chdf5_all(), chdf5_default(), $1)
                }
            default:
                continue
            }
        }
    }

    /// Whether `key` (a path such as "infos/qpos") names an object in the file.
    private func exists(_ key: String) -> Bool {
        var prefix = ""
        for component in key.split(separator: "/") {
            prefix += prefix.isEmpty ? String(component) : "/\(component)"
            guard H5Lexists(file.id, prefix, chdf5_default()) > 0 else { return false }
        }
        return true
    }

    private func open(_ key: String) throws(D4RLFileError) -> StoredArray {
        guard exists(key) else {
            throw .missingKey(path: path, key: key, available: linkNames(in: file.id))
        }
        guard let dataset = HDF5Handle(H5Dopen2(file.id, key, chdf5_default()), .dataset),
              let type = HDF5Handle(H5Dget_type(dataset.id), .datatype),
              let space = HDF5Handle(H5Dget_space(dataset.id), .dataspace) else {
            throw .hdf5Failure(path: path, key: key, operation: "open it as a dataset")
        }
        let rank = Int(H5Sget_simple_extent_ndims(space.id))
        var dimensions = [hsize_t](repeating: 0, count: max(rank, 0))
        guard rank >= 0, H5Sget_simple_extent_dims(space.id, &dimensions, nil) == rank else {
            throw .hdf5Failure(path: path, key: key, operation: "read its shape")
        }
        return StoredArray(path: path, key: key, dataset: dataset, typeClass: H5Tget_class(type.id),
                           shape: dimensions.map { Int($0) })
    }
}

/// An open dataset with what the reader decides on before reading it.
private struct StoredArray {
    let path: String
    let key: String
    let dataset: HDF5Handle
    let typeClass: H5T_class_t
    let shape: [Int]

    var isNumeric: Bool { typeClass == H5T_FLOAT || typeClass == H5T_INTEGER }

    func rowsAndColumns() throws(D4RLFileError) -> (rows: Int, columns: Int) {
        switch shape.count {
        case 1: return (shape[0], 1)
        case 2 where shape[1] > 0: return (shape[0], shape[1])
        default: throw .wrongShape(path: path, key: key, shape: shape, expected: "(N, columns)")
        }
    }

    /// (N, 1) is accepted as well as (N,), since some converters write vectors that way.
    func vectorLength() throws(D4RLFileError) -> Int {
        guard shape.count == 1 || shape.count == 2 && shape[1] == 1 else {
            throw .wrongShape(path: path, key: key, shape: shape, expected: "(N,)")
        }
        return shape[0]
    }

    /// The whole dataset converted by HDF5 to `memoryType`, written straight into the new array's
    /// storage with no intermediate copy.
    func read<Element: BitwiseCopyable>(as memoryType: hid_t, count: Int) throws(D4RLFileError) -> [Element] {
        var status: herr_t = -1
        let values = [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = H5Dread(dataset.id, memoryType, chdf5_all(), chdf5_all(), chdf5_default(), buffer.baseAddress)
            initialized = status >= 0 ? count : 0
        }
        guard status >= 0 else { throw .hdf5Failure(path: path, key: key, operation: "read the values") }
        return values
    }
}

/// The value of a one-element string or number as text, nil for anything else. `read` reads the
/// element (of a dataset or an attribute) converted to the given memory type into the buffer.
private func scalarText(type: hid_t, space: hid_t, read: (hid_t, UnsafeMutableRawPointer) -> herr_t) -> String? {
    guard H5Sget_simple_extent_npoints(space) == 1 else { return nil }
    switch H5Tget_class(type) {
    case H5T_STRING:
        return stringText(type: type, read: read)
    case H5T_INTEGER:
        var value: Int64 = 0
        return read(chdf5_native_int64(), &value) >= 0 ? "\(value)" : nil
    case H5T_FLOAT:
        var value = 0.0
        return read(chdf5_native_double(), &value) >= 0 ? "\(value)" : nil
    default:
        return nil
    }
}

/// A variable-length string comes back as a pointer HDF5 allocated; a fixed-length one fills a
/// buffer of its size, with one extra NUL in case it fills it entirely.
private func stringText(type: hid_t, read: (hid_t, UnsafeMutableRawPointer) -> herr_t) -> String? {
    guard let memoryType = HDF5Handle(H5Tcopy(type), .datatype) else { return nil }
    if H5Tis_variable_str(type) > 0 {
        var pointer: UnsafeMutablePointer<CChar>?
        guard read(memoryType.id, &pointer) >= 0, let pointer else { return nil }
        defer { H5free_memory(pointer) }
        return String(cString: pointer)
    }
    var bytes = [CChar](repeating: 0, count: H5Tget_size(type) + 1)
    return read(memoryType.id, &bytes) >= 0 ? text(bytes) : nil
}
