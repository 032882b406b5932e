#pragma once
// Whole-file reading with transparent gzip decompression. Torch-free.

#include <cstdint>
#include <string>
#include <vector>

namespace scalelab {

// Reads a whole file. Throws DataError naming the file when it is missing or unreadable.
std::vector<uint8_t> readFileBytes(const std::string& path);

// True when the bytes start with the gzip magic (1f 8b).
bool isGzip(const std::vector<uint8_t>& bytes);

// Decompresses a gzip stream (one or more members). `name` is used in error messages.
// Throws DataError on a corrupt or truncated stream.
std::vector<uint8_t> gunzip(const std::vector<uint8_t>& compressed, const std::string& name);

// Reads a file and gunzips it when it is gzip-compressed, whatever its name.
std::vector<uint8_t> readFileMaybeGzip(const std::string& path);

// Writes a file atomically: to PATH.tmp-<pid>, flushed, then renamed over PATH, so a crash at
// any moment leaves either the old file or the new one. Throws Error naming the path.
void writeFileAtomic(const std::string& path, const void* data, size_t size);
void writeFileAtomic(const std::string& path, const std::string& text);

// Joins a folder and a file name with one '/'.
std::string joinPath(const std::string& folder, const std::string& name);

// True when `path` names an existing regular file / directory.
bool fileExists(const std::string& path);
bool dirExists(const std::string& path);

}  // namespace scalelab
