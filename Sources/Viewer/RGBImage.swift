import CPNG
import Foundation
import MuJoCo
import Persistence

/// An 8-bit RGB image, top row first (the order of image files and video frames).
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var pixels: [UInt8]
    /// OpenGL's rows, bottom first, before they are flipped into `pixels`.
    private var framebufferRows: [UInt8]

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        framebufferRows = pixels
    }

    /// The colour at column `x`, row `y` (from the top).
    public func pixel(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
        let offset = (y * width + x) * 3
        return (pixels[offset], pixels[offset + 1], pixels[offset + 2])
    }

    /// Reads `viewport` (the image's size) of the renderer's current framebuffer.
    mutating func read(from renderer: SceneRenderer, viewport: PixelRect) {
        precondition(viewport.width == width && viewport.height == height, "viewport and image differ in size")
        framebufferRows.withUnsafeMutableBufferPointer { renderer.readPixels(viewport, into: $0) }
        let rowBytes = width * 3
        pixels.withUnsafeMutableBufferPointer { pixels in
            framebufferRows.withUnsafeBufferPointer { rows in
                for row in 0..<height {
                    let source = rows.baseAddress! + (height - 1 - row) * rowBytes
                    (pixels.baseAddress! + row * rowBytes).update(from: source, count: rowBytes)
                }
            }
        }
    }

    /// The image as the bytes of the PNG file `path`, encoded by libpng.
    private func pngData(for path: String) throws(ViewerError) -> Data {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_RGB)
        var size = 0
        // The first call, without memory, measures the encoded size.
        guard png_image_write_to_memory(&image, nil, &size, 0, pixels, 0, nil) != 0 else {
            throw .pngFailed(path: path, message: Self.message(image))
        }
        var data = Data(count: size)
        let written = data.withUnsafeMutableBytes { png_image_write_to_memory(&image, $0.baseAddress, &size, 0, pixels, 0, nil) }
        guard written != 0 else { throw .pngFailed(path: path, message: Self.message(image)) }
        data.count = size
        return data
    }

    /// Writes the image as a PNG file, atomically.
    public func writePNG(to path: String) throws {
        try AtomicFile.write(try pngData(for: path), to: path)
    }

    private static func message(_ image: png_image) -> String {
        withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
