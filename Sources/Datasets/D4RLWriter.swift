import CHDF5

/// Builds one D4RL file; every error it throws names the destination (not the temporary) and the key.
struct D4RLWriter {
    /// Gzip level 4: most of level 9's size on float data at a fraction of its time.
    private static let compression: UInt32 = 4
    /// About 1 MiB of float32 per chunk: compression works per chunk, and readers that cache chunks
    /// (HDF5's default cache holds 1 MiB) then keep a whole one.
    private static let chunkValues = 1 << 18

    private let path: String
    private let file: HDF5Handle
    /// Makes the groups in a key such as "infos/qpos" as needed.
    private let linkCreation: HDF5Handle

    /// Writes `dataset` to a new file at `temporary` and flushes it.
    static func write(_ dataset: D4RLDataset, to temporary: String, reportingAs path: String) throws(D4RLFileError) {
        chdf5_silence_errors()
        guard let file = HDF5Handle(H5Fcreate(temporary, chdf5_create_exclusive(), chdf5_default(), chdf5_default()), .file),
              let linkCreation = HDF5Handle(H5Pcreate(chdf5_link_create()), .propertyList),
              H5Pset_create_intermediate_group(linkCreation.id, 1) >= 0 else {
            throw .cannotWrite(path: path, reason: "HDF5 could not create \(temporary)")
        }
        let writer = D4RLWriter(path: path, file: file, linkCreation: linkCreation)
        try writer.contents(of: dataset)
        guard H5Fflush(file.id, H5F_SCOPE_GLOBAL) >= 0 else {
            throw .cannotWrite(path: path, reason: "HDF5 could not flush \(temporary)")
        }
    }

    private func contents(of dataset: D4RLDataset) throws(D4RLFileError) {
        for group in ["infos", "metadata"] { try makeGroup(group) }
        try floats("observations", dataset.observations, width: dataset.observationDimension)
        try floats("actions", dataset.actions, width: dataset.actionDimension)
        try floats("rewards", dataset.rewards, width: nil)
        try flags("terminals", dataset.terminals)
        if let timeouts = dataset.timeouts { try flags("timeouts", timeouts) }
        if let next = dataset.nextObservations { try floats("next_observations", next, width: dataset.observationDimension) }
        for (name, matrix) in dataset.infos.sorted(by: { $0.key < $1.key }) {
            try floats("infos/\(name)", matrix.values, width: matrix.width == 1 ? nil : matrix.width)
        }
        for (key, value) in dataset.metadata.sorted(by: { $0.key < $1.key }) {
            try string("metadata/\(key)", value)
        }
    }

    /// Shape (N, width), or (N,) when `width` is nil, stored as little-endian float32.
    private func floats(_ key: String, _ values: [Float], width: Int?) throws(D4RLFileError) {
        let rows = values.count / (width ?? 1)
        let shape = [rows] + (width.map { [$0] } ?? [])
        try array(key, shape: shape, fileType: chdf5_ieee_f32le(), memoryType: chdf5_native_float()) { write in
            values.withUnsafeBytes { write($0.baseAddress) }
        }
    }

    /// Flags as h5py stores numpy bools: an enum over int8 with FALSE = 0 and TRUE = 1, which h5py
    /// reads back as a bool array and other readers as int8.
    private func flags(_ key: String, _ values: [Bool]) throws(D4RLFileError) {
        var no: Int8 = 0, yes: Int8 = 1
        guard let type = HDF5Handle(H5Tenum_create(chdf5_native_int8()), .datatype),
              H5Tenum_insert(type.id, "FALSE", &no) >= 0, H5Tenum_insert(type.id, "TRUE", &yes) >= 0 else {
            throw .hdf5Failure(path: path, key: key, operation: "make the bool type")
        }
        let bytes = values.map { $0 ? yes : no }
        try array(key, shape: [values.count], fileType: type.id, memoryType: type.id) { write in
            bytes.withUnsafeBytes { write($0.baseAddress) }
        }
    }

    /// A chunked, gzip-compressed dataset; `fill` hands the values' address to the write it is given.
    private func array(_ key: String, shape: [Int], fileType: hid_t, memoryType: hid_t,
                       fill: ((UnsafeRawPointer?) -> herr_t) -> herr_t) throws(D4RLFileError) {
        let dimensions = shape.map { hsize_t($0) }
        let width = shape.dropFirst().reduce(1, *)
        let chunk = [hsize_t(min(shape[0], max(1, Self.chunkValues / width)))] + dimensions.dropFirst()
        guard let space = HDF5Handle(H5Screate_simple(Int32(shape.count), dimensions, nil), .dataspace),
              let creation = HDF5Handle(H5Pcreate(chdf5_dataset_create()), .propertyList),
              H5Pset_chunk(creation.id, Int32(chunk.count), chunk) >= 0,
              H5Pset_deflate(creation.id, Self.compression) >= 0,
              H5Pset_obj_track_times(creation.id, false) >= 0,
              let dataset = HDF5Handle(H5Dcreate2(file.id, key, fileType, space.id, linkCreation.id, creation.id,
                                                  chdf5_default()), .dataset) else {
            throw .hdf5Failure(path: path, key: key, operation: "create the dataset")
        }
        let status = fill { H5Dwrite(dataset.id, memoryType, chdf5_all(), chdf5_all(), chdf5_default(), $0) }
        guard status >= 0 else { throw .hdf5Failure(path: path, key: key, operation: "write the values") }
    }

    /// A group whose object header records no creation or modification time (HDF5's default does),
    /// so that the same data always makes the same bytes.
    private func makeGroup(_ key: String) throws(D4RLFileError) {
        guard let creation = HDF5Handle(H5Pcreate(chdf5_group_create()), .propertyList),
              H5Pset_obj_track_times(creation.id, false) >= 0,
              HDF5Handle(H5Gcreate2(file.id, key, linkCreation.id, creation.id, chdf5_default()), .group) != nil else {
            throw .hdf5Failure(path: path, key: key, operation: "create the group")
        }
    }

    /// A scalar variable-length UTF-8 string, what h5py writes for a Python str.
    private func string(_ key: String, _ value: String) throws(D4RLFileError) {
        guard let type = HDF5Handle(H5Tcopy(chdf5_c_string()), .datatype),
              H5Tset_size(type.id, chdf5_variable_size()) >= 0, H5Tset_cset(type.id, H5T_CSET_UTF8) >= 0,
              let space = HDF5Handle(H5Screate(H5S_SCALAR), .dataspace),
              let creation = HDF5Handle(H5Pcreate(chdf5_dataset_create()), .propertyList),
              H5Pset_obj_track_times(creation.id, false) >= 0,
              let dataset = HDF5Handle(H5Dcreate2(file.id, key, type.id, space.id, linkCreation.id, creation.id,
                                                  chdf5_default()), .dataset) else {
            throw .hdf5Failure(path: path, key: key, operation: "create the string dataset")
        }
        let status = value.withCString { characters in
            var pointer: UnsafePointer<CChar>? = characters
            return H5Dwrite(dataset.id, type.id, chdf5_all(), chdf5_all(), chdf5_default(), &pointer)
        }
        guard status >= 0 else { throw .hdf5Failure(path: path, key: key, operation: "write the string") }
    }
}
