#pragma once
// Helpers for core tests: temporary folders and the files a test makes for itself.

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"

namespace scalelab::test {

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
public:
    TempDir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "scalelab-test-XXXXXX").string();
        path_ = mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

inline void writeBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

inline std::vector<uint8_t> gzipBytes(const std::vector<uint8_t>& raw) {
    z_stream zs{};
    deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::vector<uint8_t> out(deflateBound(&zs, uLong(raw.size())) + 64);
    zs.next_in = const_cast<Bytef*>(raw.data());
    zs.avail_in = uInt(raw.size());
    zs.next_out = out.data();
    zs.avail_out = uInt(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

inline void appendBigEndian32(std::vector<uint8_t>& v, uint32_t x) {
    v.push_back(uint8_t(x >> 24));
    v.push_back(uint8_t(x >> 16));
    v.push_back(uint8_t(x >> 8));
    v.push_back(uint8_t(x));
}

// IDX bytes of unsigned bytes: magic 0x0000080R, dims, then data.
inline std::vector<uint8_t> idxBytes(const std::vector<uint32_t>& dims,
                                     const std::vector<uint8_t>& data) {
    std::vector<uint8_t> v = {0, 0, 0x08, uint8_t(dims.size())};
    for (uint32_t d : dims) {
        appendBigEndian32(v, d);
    }
    v.insert(v.end(), data.begin(), data.end());
    return v;
}

// Writes a small MNIST-style set (n train, m test, side x side images, labels i % 10) into a
// folder, gzipped or raw. Pixel (i, p) = (i * 7 + p) % 256.
inline void writeIdxSet(const std::string& folder, int n, int m, int side, bool gz) {
    auto write = [&](const std::string& stem, const std::vector<uint8_t>& bytes) {
        writeBytes(folder + "/" + stem + (gz ? ".gz" : ""), gz ? gzipBytes(bytes) : bytes);
    };
    for (int part = 0; part < 2; ++part) {
        const int count = part == 0 ? n : m;
        std::vector<uint8_t> pixels, labels;
        for (int i = 0; i < count; ++i) {
            labels.push_back(uint8_t(i % 10));
            for (int p = 0; p < side * side; ++p) {
                pixels.push_back(uint8_t((i * 7 + p) % 256));
            }
        }
        const std::string prefix = part == 0 ? "train" : "t10k";
        write(prefix + "-images-idx3-ubyte",
              idxBytes({uint32_t(count), uint32_t(side), uint32_t(side)}, pixels));
        write(prefix + "-labels-idx1-ubyte", idxBytes({uint32_t(count)}, labels));
    }
}

// Runs `fn` and expects a DataError whose message contains every fragment.
template <typename Fn>
void expectDataError(Fn fn, const std::vector<std::string>& fragments) {
    try {
        fn();
        FAIL() << "expected a DataError";
    } catch (const scalelab::DataError& e) {
        const std::string msg = e.what();
        for (const auto& f : fragments) {
            EXPECT_NE(msg.find(f), std::string::npos)
                << "message '" << msg << "' lacks '" << f << "'";
        }
    }
}

}  // namespace scalelab::test
