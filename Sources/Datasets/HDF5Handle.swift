import CHDF5

/// An HDF5 identifier owned by one object and closed when that object goes, so that every early
/// exit on an error releases what was opened. This matters beyond leaks: HDF5 keeps a file open
/// while any dataset or group in it is, and a written file must be closed before it is renamed.
final class HDF5Handle {
    enum Kind { case file, group, object, dataset, dataspace, datatype, attribute, propertyList }

    let id: hid_t
    private let kind: Kind

    /// nil when `id` is HDF5's failure value (negative).
    init?(_ id: hid_t, _ kind: Kind) {
        guard id >= 0 else { return nil }
        self.id = id
        self.kind = kind
    }

    deinit {
        switch kind {
        case .file: H5Fclose(id)
        case .group: H5Gclose(id)
        case .object: H5Oclose(id)
        case .dataset: H5Dclose(id)
        case .dataspace: H5Sclose(id)
        case .datatype: H5Tclose(id)
        case .attribute: H5Aclose(id)
        case .propertyList: H5Pclose(id)
        }
    }
}

/// The names of the links in a group, in name order; empty when HDF5 cannot list them.
func linkNames(in group: hid_t) -> [String] {
    var info = H5G_info_t()
    guard H5Gget_info(group, &info) >= 0 else { return [] }
    return (0..<info.nlinks).compactMap { index in
        let length = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, chdf5_default())
        guard length >= 0 else { return nil }
        var name = [CChar](repeating: 0, count: length + 1)
        guard H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, &name, name.count,
                                 chdf5_default()) >= 0 else { return nil }
        return text(name)
    }
}

/// What a link in `group` leads to (H5I_DATASET, H5I_GROUP, ...); H5I_BADID when it cannot be opened.
func objectType(in group: hid_t, named name: String) -> H5I_type_t {
    guard let object = HDF5Handle(H5Oopen(group, name, chdf5_default()), .object) else { return H5I_BADID }
    return H5Iget_type(object.id)
}

/// The names of an object's attributes, in name order.
func attributeNames(of object: hid_t) -> [String] {
    var names: [String] = []
    var index: hsize_t = 0
    withUnsafeMutablePointer(to: &names) { names in
        _ = H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, { _, name, _, context in
            guard let name, let context else { return -1 }
            context.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
            return 0
        }, names)
    }
    return names
}

/// UTF-8 bytes up to the first NUL (HDF5 fixed-length strings may fill their buffer entirely).
func text(_ bytes: [CChar]) -> String {
    String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The name of a type class, for messages about a dataset of the wrong kind.
func describe(_ typeClass: H5T_class_t) -> String {
    switch typeClass {
    case H5T_INTEGER: "integers"
    case H5T_FLOAT: "floats"
    case H5T_STRING: "strings"
    case H5T_ENUM: "enum values"
    case H5T_COMPOUND: "compound records"
    case H5T_VLEN: "variable-length sequences"
    case H5T_ARRAY: "array elements"
    default: "values of HDF5 type class \(typeClass.rawValue)"
    }
}
