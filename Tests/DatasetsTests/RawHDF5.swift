import CHDF5
import Foundation
import Testing

/// A folder removed with everything in it when the test's value goes away.
final class TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("D4RLFileTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// One dataset written as other tools store D4RL files (float64, uint8 or float flags, no compression).
struct RawArray {
    let key: String
    let bytes: [UInt8]
    let shape: [Int]
    let type: hid_t

    init<Element: BitwiseCopyable>(_ key: String, _ values: [Element], shape: [Int], type: hid_t) {
        self.key = key
        self.bytes = values.withUnsafeBytes { Array($0) }
        self.shape = shape
        self.type = type
    }

    /// Fixed-length strings of `width` bytes, one per row: data of a type the reader must refuse.
    static func strings(_ key: String, rows: Int, width: Int = 4) -> RawArray {
        let type = H5Tcopy(chdf5_c_string())
        H5Tset_size(type, width)
        return RawArray(key, [UInt8](repeating: 65, count: rows * width), shape: [rows], type: type)
    }
}

func writeRaw(_ path: String, _ arrays: [RawArray]) throws {
    let file = H5Fcreate(path, chdf5_create_exclusive(), chdf5_default(), chdf5_default())
    #expect(file >= 0)
    defer { H5Fclose(file) }
    for array in arrays {
        let space = H5Screate_simple(Int32(array.shape.count), array.shape.map { hsize_t($0) }, nil)
        let dataset = H5Dcreate2(file, array.key, array.type, space, chdf5_default(), chdf5_default(), chdf5_default())
        let status = array.bytes.withUnsafeBytes {
            H5Dwrite(dataset, array.type, chdf5_all(), chdf5_all(), chdf5_default(), $0.baseAddress)
        }
        #expect(space >= 0 && dataset >= 0 && status >= 0, "writing \(array.key)")
        H5Dclose(dataset)
        H5Sclose(space)
    }
}
