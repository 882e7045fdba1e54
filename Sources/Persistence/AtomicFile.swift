import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be written; nothing was left at the destination.
public struct AtomicWriteError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public var description: String { "\(path): cannot write the file: \(reason)" }
}

/// Whole-file writes that never leave a partial file: a checkpoint, a metrics log, a dataset or a
/// report is either the old version or the new one, even when the process is killed mid-write.
public enum AtomicFile {
    /// Lets `writeTemporary` create the new file at a uniquely named temporary path in the
    /// destination folder (the same file system, so the rename is atomic), syncs it and renames it
    /// over `path`. On any failure the temporary is removed and `path` is left as it was; errors of
    /// `writeTemporary` pass through unchanged.
    public static func replace(_ path: String, writingWith writeTemporary: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        func failure(_ step: String) -> AtomicWriteError {
            AtomicWriteError(path: path, reason: "\(step): \(String(cString: strerror(errno)))")
        }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        try writeTemporary(temporary)
        let descriptor = open(temporary, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("cannot reopen \(temporary)") }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard synced else { throw failure("cannot sync \(temporary)") }
        guard rename(temporary, url.path) == 0 else { throw failure("cannot rename \(temporary) to it") }
        renamed = true
        syncFolder(folder)
    }

    /// Writes `data` atomically (see `replace`).
    public static func write(_ data: Data, to path: String) throws(AtomicWriteError) {
        do {
            try replace(path) { temporary in
                // 0o666 so that the process umask decides the permissions, as for any newly created file.
                let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
                guard descriptor >= 0 else {
                    throw AtomicWriteError(path: path, reason: "cannot create \(temporary): \(String(cString: strerror(errno)))")
                }
                defer { close(descriptor) }
                guard writeAll(data, to: descriptor) else {
                    throw AtomicWriteError(path: path, reason: "cannot write the data: \(String(cString: strerror(errno)))")
                }
            }
        } catch let error as AtomicWriteError {
            throw error
        } catch {
            throw AtomicWriteError(path: path, reason: "\(error)")
        }
    }

    /// Throws unless a file can be written at `path` the way `replace` writes it: the folder exists and
    /// takes a new file, and `path` is not a folder. Checked by creating and removing a temporary file
    /// there, so that a long run can refuse an output it could not save before it starts.
    public static func requireWritable(_ path: String) throws(AtomicWriteError) {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw AtomicWriteError(path: path, reason: "it is a folder")
        }
        let url = URL(fileURLWithPath: path)
        let probe = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).probe").path
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw AtomicWriteError(path: path, reason: "cannot create a file in \(url.deletingLastPathComponent().path): "
                + String(cString: strerror(errno)))
        }
        close(descriptor)
        unlink(probe)
    }

    /// Text as UTF-8, atomically.
    public static func write(_ text: String, to path: String) throws(AtomicWriteError) {
        try write(Data(text.utf8), to: path)
    }

    private static func writeAll(_ data: Data, to descriptor: Int32) -> Bool {
        data.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let result = systemWrite(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else { return false }
                written += result
            }
            return true
        }
    }

    /// Best effort: makes the rename itself survive a power cut. Failing here is not an error, since
    /// the file at `path` is already complete.
    private static func syncFolder(_ folder: String) {
        let descriptor = open(folder, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }
}

/// POSIX write(2), reachable under a name that `AtomicFile.write` does not shadow.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
