#include "core/data/idx.h"

#include <cstdio>
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

IdxArray parseIdxUint8(std::vector<uint8_t> bytes, int expectedRank, const std::string& name) {
    const uint32_t expectedMagic = 0x00000800u | uint32_t(expectedRank);
    if (bytes.size() < 4) {
        throw DataError(name + ": not an IDX file (only " + std::to_string(bytes.size()) +
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
    if (bytes.size() < headerBytes) {
        throw DataError(name + ": truncated IDX header (" + std::to_string(bytes.size()) +
                        " bytes, the header needs " + std::to_string(headerBytes) + ")");
    }
    IdxArray out;
    uint64_t count = 1;
    for (int d = 0; d < expectedRank; ++d) {
        const uint8_t* p = bytes.data() + 4 + 4 * d;
        const uint32_t n =
            uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
        out.dims.push_back(n);
        count *= n;
        if (count > (uint64_t(1) << 40)) {
            throw DataError(name + ": IDX header declares an impossible size");
        }
    }
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
    return parseIdxUint8(readFileMaybeGzip(path), expectedRank, path);
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
