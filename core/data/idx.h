#pragma once
// The IDX format of MNIST and Fashion-MNIST (raw or gzipped). Torch-free.
//
// Layout: two zero bytes, an element-type byte (0x08 = unsigned byte, the only type these
// datasets use), a rank byte, `rank` big-endian uint32 dimension sizes, then the row-major data.

#include <cstdint>
#include <string>
#include <vector>

namespace scalelab {

struct IdxArray {
    std::vector<int64_t> dims;  // dimension sizes, outermost first (e.g. {60000, 28, 28})
    std::vector<uint8_t> data;  // row-major element values, product(dims) bytes
};

// The most data one IDX file may hold (EMNIST's largest is 0.55 GiB): a header declaring more
// is refused before anything is allocated.
constexpr uint64_t kMaxIdxDataBytes = uint64_t(1) << 30;

// Parses IDX bytes holding unsigned bytes of the given rank. `name` (usually the path) is used in
// error messages. Throws DataError on a wrong magic, element type or rank, a dimension of 0, a
// size above kMaxIdxDataBytes, or a size mismatch.
IdxArray parseIdxUint8(std::vector<uint8_t> bytes, int expectedRank, const std::string& name);

// Reads and parses an IDX file, inflating it when it is gzip-compressed, as a stream: the header
// is checked first, then exactly the bytes it declares are read (memory grows only with the data
// that arrives), then the file must end.
IdxArray readIdxUint8(const std::string& path, int expectedRank);

// Finds an MNIST-style IDX file in a folder: `stem` ("train-images-idx3-ubyte"), its dotted
// variant ("train-images.idx3-ubyte"), each raw or with ".gz". Returns "" when none exists.
std::string findIdxFile(const std::string& folder, const std::string& stem);

}  // namespace scalelab
