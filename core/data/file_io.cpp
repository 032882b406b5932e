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

std::string sizeText(uint64_t bytes) {
    char buf[48];
    if (bytes >= (uint64_t(1) << 30)) {
        std::snprintf(buf, sizeof buf, "%.1f GiB", double(bytes) / double(uint64_t(1) << 30));
    } else if (bytes >= (uint64_t(1) << 20)) {
        std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / double(uint64_t(1) << 20));
    } else {
        std::snprintf(buf, sizeof buf, "%llu bytes", (unsigned long long)bytes);
    }
    return buf;
}

void checkReadable(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        throw DataError(path + ": file not found");
    }
    if (fs::is_directory(path, ec)) {
        throw DataError(path + ": is a folder, expected a file");
    }
}

}  // namespace

std::vector<uint8_t> readFileBytes(const std::string& path, uint64_t maxBytes) {
    checkReadable(path);
    std::error_code ec;
    const uintmax_t fileSize = fs::file_size(path, ec);
    if (ec) {
        throw DataError(path + ": cannot determine the file size (" + ec.message() + ")");
    }
    if (fileSize > maxBytes) {
        throw DataError(path + ": the file is " + sizeText(fileSize) + ", more than the " +
                        sizeText(maxBytes) + " expected of it; refusing to read it");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw DataError(path + ": cannot open for reading (permission denied?)");
    }
    std::vector<uint8_t> bytes(static_cast<size_t>(fileSize));
    if (fileSize > 0 &&
        !in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(fileSize))) {
        throw DataError(path + ": read error after " + std::to_string(in.gcount()) + " of " +
                        std::to_string(fileSize) + " bytes");
    }
    return bytes;
}

bool isGzip(const std::vector<uint8_t>& bytes) {
    return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

struct MaybeGzipReader::Z {
    z_stream zs{};
    bool init = false;
};

MaybeGzipReader::MaybeGzipReader(const std::string& path)
    : path_(path), z_(std::make_unique<Z>()), in_(size_t(1) << 16) {
    checkReadable(path);
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) {
        throw DataError(path + ": cannot open for reading (" + std::strerror(errno) + ")");
    }
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    fileBytes_ = ec ? 0 : uint64_t(size);
    fill();
    gzip_ = z_->zs.avail_in >= 2 && in_[0] == 0x1f && in_[1] == 0x8b;
    if (gzip_) {
        if (inflateInit2(&z_->zs, 15 + 16) != Z_OK) {  // 15-bit window, gzip wrapper only
            throw DataError(path + ": zlib could not be initialised");
        }
        z_->init = true;
    }
}

MaybeGzipReader::~MaybeGzipReader() {
    if (z_ && z_->init) {
        inflateEnd(&z_->zs);
    }
    if (file_) {
        std::fclose(file_);
    }
}

uint64_t MaybeGzipReader::maxOutputBytes() const {
    constexpr uint64_t kDeflateMaxRatio = 1032;
    return gzip_ ? fileBytes_ * kDeflateMaxRatio : fileBytes_;
}

bool MaybeGzipReader::fill() {
    const size_t got = std::fread(in_.data(), 1, in_.size(), file_);
    if (got == 0) {
        if (std::ferror(file_)) {
            throw DataError(path_ + ": read error after " + std::to_string(consumed_) + " bytes (" +
                            std::strerror(errno) + ")");
        }
        return false;
    }
    z_->zs.next_in = in_.data();
    z_->zs.avail_in = uInt(got);
    consumed_ += got;
    return true;
}

size_t MaybeGzipReader::read(uint8_t* out, size_t n) {
    z_stream& zs = z_->zs;
    size_t done = 0;
    if (!gzip_) {
        while (done < n) {
            if (zs.avail_in == 0 && !fill()) {
                break;
            }
            const size_t k = std::min<size_t>(zs.avail_in, n - done);
            std::memcpy(out + done, zs.next_in, k);
            zs.next_in += k;
            zs.avail_in -= uInt(k);
            done += k;
        }
        produced_ += done;
        return done;
    }
    while (done < n && !done_) {
        if (zs.avail_in == 0 && !fill()) {
            if (streamEnded_) {
                done_ = true;
                break;
            }
            throw DataError(path_ + ": truncated gzip data (the stream ends after " +
                            std::to_string(consumed_) +
                            " compressed bytes, before its end marker)");
        }
        const size_t room = std::min<size_t>(n - done, size_t(1) << 30);
        zs.next_out = out + done;
        zs.avail_out = uInt(room);
        const int rc = inflate(&zs, Z_NO_FLUSH);
        done += room - zs.avail_out;
        if (rc == Z_STREAM_END) {
            streamEnded_ = true;
            // Another member may follow; trailing zero padding is tolerated (as gzip(1) does).
            if (zs.avail_in == 0 && !fill()) {
                done_ = true;
                break;
            }
            if (zs.next_in[0] == 0) {
                done_ = true;
                break;
            }
            inflateReset(&zs);
            streamEnded_ = false;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            const std::string why = zs.msg ? zs.msg : "zlib error " + std::to_string(rc);
            throw DataError(path_ + ": corrupt gzip data (" + why + ")");
        }
    }
    produced_ += done;
    return done;
}

std::vector<uint8_t> readFileMaybeGzip(const std::string& path, uint64_t maxBytes) {
    MaybeGzipReader reader(path);
    std::vector<uint8_t> out;
    constexpr size_t kSlice = size_t(1) << 20;
    while (true) {
        const size_t before = out.size();
        out.resize(before + kSlice);
        const size_t got = reader.read(out.data() + before, kSlice);
        out.resize(before + got);
        if (out.size() > maxBytes) {
            throw DataError(path + ": holds more than the " + sizeText(maxBytes) +
                            " expected of it" + (reader.gzip() ? " once decompressed" : "") +
                            "; refusing it as corrupt or too large");
        }
        if (got < kSlice) {
            break;
        }
    }
    out.shrink_to_fit();
    return out;
}

namespace {

uint64_t le(const std::vector<uint8_t>& b, uint64_t at, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) {
        v = v << 8 | b[size_t(at) + size_t(i)];
    }
    return v;
}

}  // namespace

void checkZipArchive(const std::vector<uint8_t>& b, const std::string& name) {
    const uint64_t size = b.size();
    auto bad = [&](const std::string& what) {
        return DataError(name + ": not a readable PyTorch file (" + what +
                         "); it is damaged or truncated");
    };
    if (size < 22) {
        throw bad("too short for a ZIP archive");
    }
    // The end-of-central-directory record: the last one within the final 64 KiB + 22 bytes.
    uint64_t eocd = size;
    const uint64_t lowest = size > 65557 ? size - 65557 : 0;
    for (uint64_t at = size - 22 + 1; at-- > lowest;) {
        if (le(b, at, 4) == 0x06054b50) {
            eocd = at;
            break;
        }
    }
    if (eocd == size) {
        throw bad("no ZIP end-of-central-directory record");
    }
    uint64_t entries = le(b, eocd + 10, 2);
    uint64_t cdSize = le(b, eocd + 12, 4);
    uint64_t cdOffset = le(b, eocd + 16, 4);
    uint64_t cdLimit = eocd;
    if (entries == 0xFFFF || cdSize == 0xFFFFFFFF || cdOffset == 0xFFFFFFFF) {
        // ZIP64: a locator 20 bytes before the record points at the ZIP64 end record.
        if (eocd < 20 || le(b, eocd - 20, 4) != 0x07064b50) {
            throw bad("ZIP64 sizes without a ZIP64 locator");
        }
        const uint64_t z = le(b, eocd - 20 + 8, 8);
        if (z > eocd - 20 || eocd - 20 - z < 56 || le(b, z, 4) != 0x06064b50) {
            throw bad("a ZIP64 end record outside the file");
        }
        entries = le(b, z + 32, 8);
        cdSize = le(b, z + 40, 8);
        cdOffset = le(b, z + 48, 8);
        cdLimit = z;
    }
    if (cdOffset > cdLimit || cdSize > cdLimit - cdOffset) {
        throw bad("its central directory lies outside the file");
    }
    uint64_t at = cdOffset;
    for (uint64_t i = 0; i < entries; ++i) {
        if (cdOffset + cdSize - at < 46 || le(b, at, 4) != 0x02014b50) {
            throw bad("central directory entry " + std::to_string(i + 1) + " is damaged");
        }
        uint64_t compressed = le(b, at + 20, 4);
        uint64_t uncompressed = le(b, at + 24, 4);
        const uint64_t nameLen = le(b, at + 28, 2), extraLen = le(b, at + 30, 2),
                       commentLen = le(b, at + 32, 2);
        uint64_t local = le(b, at + 42, 4);
        const uint64_t next = at + 46 + nameLen + extraLen + commentLen;
        if (next > cdOffset + cdSize) {
            throw bad("central directory entry " + std::to_string(i + 1) + " runs past its end");
        }
        // ZIP64 extra field (id 1): the 64-bit values of the fields set to 0xFFFFFFFF.
        for (uint64_t e = at + 46 + nameLen; e + 4 <= at + 46 + nameLen + extraLen;) {
            const uint64_t id = le(b, e, 2), len = le(b, e + 2, 2);
            if (e + 4 + len > at + 46 + nameLen + extraLen) {
                throw bad("a damaged extra field in entry " + std::to_string(i + 1));
            }
            if (id == 1) {
                uint64_t p = e + 4;
                const uint64_t end = e + 4 + len;
                for (uint64_t* field : {&uncompressed, &compressed, &local}) {
                    if (*field == 0xFFFFFFFF && p + 8 <= end) {
                        *field = le(b, p, 8);
                        p += 8;
                    }
                }
            }
            e += 4 + len;
        }
        if (local > size || size - local < 30 || le(b, local, 4) != 0x04034b50) {
            throw bad("entry " + std::to_string(i + 1) + "'s local header lies outside the file");
        }
        const uint64_t data = local + 30 + le(b, local + 26, 2) + le(b, local + 28, 2);
        if (data > size || compressed > size - data) {
            throw bad("entry " + std::to_string(i + 1) + "'s data runs past the end of the file");
        }
        at = next;
    }
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

void writeNpy(const std::string& path, const std::string& dtype, const std::vector<int64_t>& shape,
              const void* data, size_t bytes) {
    std::string dims;
    for (int64_t d : shape) {
        dims += std::to_string(d) + ", ";
    }
    if (shape.size() > 1) {
        dims.resize(dims.size() - 2);  // "(2, 3)"; one dimension keeps its comma: "(2,)"
    } else if (shape.size() == 1) {
        dims.resize(dims.size() - 1);
    }
    std::string header =
        "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    // magic (6) + version (2) + header length (2) + header, padded to 64 bytes, ending in '\n'
    const size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::string out = std::string("\x93NUMPY\x01\x00", 8);
    out += char(header.size() & 0xff);
    out += char(header.size() >> 8);
    out += header;
    out.append(static_cast<const char*>(data), bytes);
    writeFileAtomic(path, out);
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
