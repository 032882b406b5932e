#include "core/data/file_io.h"

#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <limits>

#include "core/error.h"

namespace scalelab {

namespace fs = std::filesystem;

namespace {
// Decompressed data beyond this is treated as corrupt (a gzip bomb), not as a dataset.
constexpr size_t kMaxDecompressedBytes = size_t(16) << 30;  // 16 GiB
}  // namespace

std::vector<uint8_t> readFileBytes(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        throw DataError(path + ": file not found");
    }
    if (fs::is_directory(path, ec)) {
        throw DataError(path + ": is a folder, expected a file");
    }
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) {
        throw DataError(path + ": cannot open for reading (permission denied?)");
    }
    const std::streamoff size = in.tellg();
    if (size < 0) {
        throw DataError(path + ": cannot determine the file size");
    }
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    in.seekg(0);
    if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
        throw DataError(path + ": read error after " + std::to_string(in.gcount()) + " of " +
                        std::to_string(size) + " bytes");
    }
    return bytes;
}

bool isGzip(const std::vector<uint8_t>& bytes) {
    return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

std::vector<uint8_t> gunzip(const std::vector<uint8_t>& compressed, const std::string& name) {
    std::vector<uint8_t> out;
    // The trailer's ISIZE (size mod 2^32 of the last member) is a good first guess.
    if (compressed.size() >= 18) {
        const uint8_t* t = compressed.data() + compressed.size() - 4;
        const uint32_t isize =
            uint32_t(t[0]) | uint32_t(t[1]) << 8 | uint32_t(t[2]) << 16 | uint32_t(t[3]) << 24;
        out.reserve(std::min<size_t>(isize, kMaxDecompressedBytes));
    }

    size_t inPos = 0;
    int members = 0;
    while (inPos < compressed.size()) {
        // Trailing zero padding after the last member is tolerated (as gzip(1) does).
        if (members > 0 && compressed[inPos] == 0) {
            break;
        }
        z_stream zs{};
        if (inflateInit2(&zs, 15 + 16) != Z_OK) {  // 15-bit window, gzip wrapper only
            throw DataError(name + ": zlib could not be initialised");
        }
        zs.next_in = const_cast<Bytef*>(compressed.data() + inPos);
        const size_t available = compressed.size() - inPos;
        zs.avail_in =
            static_cast<uInt>(std::min<size_t>(available, std::numeric_limits<uInt>::max()));
        size_t fedUpTo = inPos + zs.avail_in;
        int rc = Z_OK;
        while (rc != Z_STREAM_END) {
            if (out.size() == out.capacity()) {
                out.reserve(std::max<size_t>(out.capacity() * 2, 1 << 20));
            }
            const size_t before = out.size();
            const size_t room =
                std::min<size_t>(out.capacity() - before, std::numeric_limits<uInt>::max());
            out.resize(before + room);
            zs.next_out = out.data() + before;
            zs.avail_out = static_cast<uInt>(room);
            rc = inflate(&zs, Z_NO_FLUSH);
            out.resize(before + (room - zs.avail_out));
            if (rc == Z_STREAM_END) {
                break;
            }
            if (zs.avail_in == 0 && fedUpTo < compressed.size()) {
                // Inputs above 4 GiB are fed in slices.
                const size_t more =
                    std::min<size_t>(compressed.size() - fedUpTo, std::numeric_limits<uInt>::max());
                zs.next_in = const_cast<Bytef*>(compressed.data() + fedUpTo);
                zs.avail_in = static_cast<uInt>(more);
                fedUpTo += more;
            } else if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
                inflateEnd(&zs);
                throw DataError(name + ": truncated gzip data (the stream ends after " +
                                std::to_string(compressed.size()) +
                                " compressed bytes, before its end marker)");
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                const std::string why = zs.msg ? zs.msg : "zlib error " + std::to_string(rc);
                inflateEnd(&zs);
                throw DataError(name + ": corrupt gzip data (" + why + ")");
            }
            if (out.size() > kMaxDecompressedBytes) {
                inflateEnd(&zs);
                throw DataError(name + ": gzip data expands beyond 16 GiB; refusing it as corrupt");
            }
        }
        inPos += zs.total_in;
        inflateEnd(&zs);
        ++members;
    }
    if (members == 0) {
        throw DataError(name + ": empty gzip file");
    }
    return out;
}

std::vector<uint8_t> readFileMaybeGzip(const std::string& path) {
    std::vector<uint8_t> bytes = readFileBytes(path);
    if (isGzip(bytes)) {
        return gunzip(bytes, path);
    }
    return bytes;
}

void writeFileAtomic(const std::string& path, const void* data, size_t size) {
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    {
        std::FILE* f = std::fopen(tmp.c_str(), "wb");
        if (!f) {
            throw Error(path + ": cannot write (" + std::strerror(errno) + ")");
        }
        const size_t written = size ? std::fwrite(data, 1, size, f) : 0;
        const bool ok = written == size && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
        const int err = errno;
        std::fclose(f);
        if (!ok) {
            std::remove(tmp.c_str());
            throw Error(path + ": write failed after " + std::to_string(written) + " of " +
                        std::to_string(size) + " bytes (" + std::strerror(err) + ")");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        std::remove(tmp.c_str());
        throw Error(path + ": cannot replace the file (" + std::strerror(err) + ")");
    }
}

void writeFileAtomic(const std::string& path, const std::string& text) {
    writeFileAtomic(path, text.data(), text.size());
}

std::string joinPath(const std::string& folder, const std::string& name) {
    if (folder.empty()) {
        return name;
    }
    if (folder.back() == '/') {
        return folder + name;
    }
    return folder + "/" + name;
}

bool fileExists(const std::string& path) {
    std::error_code ec;
    return fs::is_regular_file(path, ec);
}

bool dirExists(const std::string& path) {
    std::error_code ec;
    return fs::is_directory(path, ec);
}

}  // namespace scalelab
