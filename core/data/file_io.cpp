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
