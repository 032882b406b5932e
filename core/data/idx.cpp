#include "core/data/idx.h"

#include <algorithm>
#include <cstdio>
#include <new>
#include <utility>

#include "core/data/file_io.h"
#include "core/error.h"

namespace scalelab {

namespace {

std::string hex32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", v);
    return buf;
}

const char* idxTypeName(uint8_t code) {
    switch (code) {
        case 0x08:
            return "unsigned byte";
        case 0x09:
            return "signed byte";
        case 0x0B:
            return "int16";
        case 0x0C:
            return "int32";
        case 0x0D:
            return "float32";
        case 0x0E:
            return "float64";
        default:
            return "unknown";
    }
}

}  // namespace

namespace {

// Checks the magic and reads the dimensions from a header of 4 + 4 * rank bytes. Returns the
// number of data bytes the header declares.
uint64_t parseHeader(const uint8_t* bytes, size_t size, int expectedRank, const std::string& name,
                     IdxArray& out) {
    const uint32_t expectedMagic = 0x00000800u | uint32_t(expectedRank);
    if (size < 4) {
        throw DataError(name + ": not an IDX file (only " + std::to_string(size) +
                        " bytes, too short for the 4-byte magic number)");
    }
    const uint32_t magic = uint32_t(bytes[0]) << 24 | uint32_t(bytes[1]) << 16 |
                           uint32_t(bytes[2]) << 8 | uint32_t(bytes[3]);
    if (bytes[0] != 0 || bytes[1] != 0) {
        throw DataError(name + ": wrong IDX magic number " + hex32(magic) + " (expected " +
                        hex32(expectedMagic) + "); is this an IDX file?");
    }
    if (bytes[2] != 0x08) {
        throw DataError(name + ": wrong IDX magic number " + hex32(magic) + ": element type " +
                        idxTypeName(bytes[2]) + ", but only unsigned bytes (expected " +
                        hex32(expectedMagic) + ") are supported");
    }
    if (bytes[3] != expectedRank) {
        throw DataError(name + ": wrong IDX magic number " + hex32(magic) + ": " +
                        std::to_string(bytes[3]) + " dimensions, expected " +
                        std::to_string(expectedRank) + " (" + hex32(expectedMagic) + ")");
    }
    const size_t headerBytes = 4 + 4 * size_t(expectedRank);
    if (size < headerBytes) {
        throw DataError(name + ": truncated IDX header (" + std::to_string(size) +
                        " bytes, the header needs " + std::to_string(headerBytes) + ")");
    }
    uint64_t count = 1;
    for (int d = 0; d < expectedRank; ++d) {
        const uint8_t* p = bytes + 4 + 4 * d;
        const uint32_t n =
            uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
        if (n == 0) {
            throw DataError(name + ": IDX header declares a size of 0 in dimension " +
                            std::to_string(d + 1) +
                            (d == 0 ? " (no items)" : " (images of 0 pixels)") +
                            "; refusing an empty dataset file");
        }
        out.dims.push_back(n);
        count *= n;
        if (count > kMaxIdxDataBytes) {
            throw DataError(name + ": IDX header declares more than " +
                            std::to_string(kMaxIdxDataBytes >> 20) +
                            " MiB of data; refusing it as corrupt or too large");
        }
    }
    return count;
}

}  // namespace

IdxArray parseIdxUint8(std::vector<uint8_t> bytes, int expectedRank, const std::string& name) {
    IdxArray out;
    const uint64_t count = parseHeader(bytes.data(), bytes.size(), expectedRank, name, out);
    const size_t headerBytes = 4 + 4 * size_t(expectedRank);
    const uint64_t have = bytes.size() - headerBytes;
    if (have < count) {
        throw DataError(name + ": truncated IDX data: the header declares " +
                        std::to_string(count) + " bytes of data but the file holds " +
                        std::to_string(have));
    }
    if (have > count) {
        throw DataError(name + ": IDX file has " + std::to_string(have - count) +
                        " unexpected bytes after the " + std::to_string(count) +
                        " bytes its header declares");
    }
    bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(headerBytes));
    out.data = std::move(bytes);
    return out;
}

IdxArray readIdxUint8(const std::string& path, int expectedRank) {
    MaybeGzipReader reader(path);
    uint8_t header[4 + 4 * 4] = {};
    const size_t headerBytes = 4 + 4 * size_t(std::max(0, std::min(expectedRank, 4)));
    // The magic first (a wrong rank must not be read as dimensions), then the dimensions.
    size_t got = reader.read(header, 4);
    if (got == 4 && header[0] == 0 && header[1] == 0 && header[2] == 0x08 &&
        header[3] == expectedRank) {
        got += reader.read(header + 4, headerBytes - 4);
    }
    IdxArray out;
    const uint64_t count = parseHeader(header, got, expectedRank, path, out);
    // Room for the declared data is reserved at once, as far as the file's size allows: growing
    // by doubling would leave the freed smaller copies in the heap (Fashion-MNIST's 47 MB of
    // training images cost 60 MB more at peak). Reserved pages are not resident until written,
    // and the buffer is filled in slices, so a truncated file still touches only what it holds.
    try {
        out.data.reserve(size_t(std::min<uint64_t>(count, reader.maxOutputBytes())));
    } catch (const std::bad_alloc&) {
        // no room to reserve: grow with the data instead
    }
    constexpr size_t kSlice = size_t(4) << 20;
    while (out.data.size() < count) {
        const size_t before = out.data.size();
        const size_t want = size_t(std::min<uint64_t>(kSlice, count - before));
        out.data.resize(before + want);
        const size_t n = reader.read(out.data.data() + before, want);
        out.data.resize(before + n);
        if (n < want) {
            throw DataError(path + ": truncated IDX data: the header declares " +
                            std::to_string(count) + " bytes of data but the file holds " +
                            std::to_string(out.data.size()));
        }
    }
    // The file must end here; count (up to 16 MiB of) what follows.
    constexpr uint64_t kCountAtMost = uint64_t(16) << 20;
    uint8_t scratch[1 << 14];
    uint64_t extra = 0;
    for (size_t n; extra < kCountAtMost && (n = reader.read(scratch, sizeof scratch)) > 0;) {
        extra += n;
    }
    if (extra > 0) {
        throw DataError(path + ": IDX file has " + (extra >= kCountAtMost ? "at least " : "") +
                        std::to_string(extra) + " unexpected bytes after the " +
                        std::to_string(count) + " bytes its header declares");
    }
    return out;
}

std::string findIdxFile(const std::string& folder, const std::string& stem) {
    std::string dotted = stem;
    const size_t dash = dotted.find("-idx");
    if (dash != std::string::npos) {
        dotted[dash] = '.';
    }
    for (const std::string& base : {stem, dotted}) {
        for (const char* suffix : {".gz", ""}) {
            const std::string path = joinPath(folder, base + suffix);
            if (fileExists(path)) {
                return path;
            }
        }
    }
    return {};
}

}  // namespace scalelab
