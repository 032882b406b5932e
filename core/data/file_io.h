#pragma once
// File reading with bounded memory and transparent, streaming gzip decompression. Torch-free.
//
// Nothing here trusts a size a file declares about itself (gzip's ISIZE trailer) or allocates
// ahead of the data that really arrives: every read has a cap, checked before the bytes are read.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace scalelab {

constexpr uint64_t kDefaultMaxFileBytes = uint64_t(1) << 30;  // 1 GiB unless a caller says
constexpr uint64_t kMaxJsonBytes = uint64_t(16) << 20;        // config, summary, plan, session

// Reads a whole file of at most `maxBytes`, checked from its size before reading. Throws
// DataError naming the file when it is missing, unreadable or larger.
std::vector<uint8_t> readFileBytes(const std::string& path,
                                   uint64_t maxBytes = kDefaultMaxFileBytes);

// True when the bytes start with the gzip magic (1f 8b).
bool isGzip(const std::vector<uint8_t>& bytes);

// Reads a file, inflating it when it is gzip (one or more members, whatever its name), in
// slices: memory grows only with the data that arrives, and at most `maxBytes` of output are
// accepted. Throws DataError naming the file on a missing file, a corrupt or truncated gzip
// stream, or more output than `maxBytes`.
class MaybeGzipReader {
public:
    explicit MaybeGzipReader(const std::string& path);
    ~MaybeGzipReader();
    MaybeGzipReader(const MaybeGzipReader&) = delete;
    MaybeGzipReader& operator=(const MaybeGzipReader&) = delete;

    // Reads up to `n` bytes; fewer only at the end of the data.
    size_t read(uint8_t* out, size_t n);
    // Bytes handed out so far.
    uint64_t position() const { return produced_; }
    bool gzip() const { return gzip_; }
    // The most bytes this file can produce, from its size on disk: its size when plain, 1032x
    // it when gzip (deflate's largest expansion). A bound that needs no trust in the content.
    uint64_t maxOutputBytes() const;

private:
    bool fill();  // refills the compressed buffer; false at the end of the file
    std::string path_;
    std::FILE* file_ = nullptr;
    bool gzip_ = false;
    struct Z;
    std::unique_ptr<Z> z_;
    std::vector<uint8_t> in_;
    bool streamEnded_ = false;  // the last gzip member ended cleanly
    bool done_ = false;
    uint64_t produced_ = 0;
    uint64_t consumed_ = 0;   // compressed bytes read from the file
    uint64_t fileBytes_ = 0;  // the file's size when opened
};

// The whole (decompressed) content, at most `maxBytes`.
std::vector<uint8_t> readFileMaybeGzip(const std::string& path,
                                       uint64_t maxBytes = kDefaultMaxFileBytes);

// Checks that `bytes` are a well-formed ZIP archive (the container of PyTorch's .pt files)
// before a library parses them: an end-of-central-directory record, a central directory inside
// the file, and every entry's local header and data inside the file (ZIP64 too). LibTorch's zip
// reader reads out of bounds on archives whose offsets point past the end (found by fuzzing).
// Throws DataError naming `name` and what is wrong.
void checkZipArchive(const std::vector<uint8_t>& bytes, const std::string& name);

// Writes a file atomically: to PATH.tmp-<pid>, flushed, then renamed over PATH, so a crash at
// any moment leaves either the old file or the new one. Throws Error naming the path.
void writeFileAtomic(const std::string& path, const void* data, size_t size);
void writeFileAtomic(const std::string& path, const std::string& text);

// Writes a NumPy .npy file (format 1.0, C order) atomically: `dtype` is NumPy's type string
// ("<f4" float32, "<i8" int64), `data` holds product(shape) values of it, little-endian.
void writeNpy(const std::string& path, const std::string& dtype, const std::vector<int64_t>& shape,
              const void* data, size_t bytes);

// Joins a folder and a file name with one '/'.
std::string joinPath(const std::string& folder, const std::string& name);

// True when `path` names an existing regular file / directory.
bool fileExists(const std::string& path);
bool dirExists(const std::string& path);

}  // namespace scalelab
