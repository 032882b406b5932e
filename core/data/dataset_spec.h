#pragma once
// Which dataset to load, as a value, plus the registry of datasets found on this machine.
// Torch-free: the GUI includes this.
//
// Spec strings, as the CLI and the GUI's session files write them:
//   fashion-mnist            Fashion-MNIST, located automatically (the default everywhere)
//   fashion-mnist:PATH       Fashion-MNIST IDX files in PATH
//   mnist:PATH               MNIST IDX files in PATH (raw or .gz)
//   cifar10:PATH             CIFAR-10 binary batches in PATH (or PATH/cifar-10-batches-bin)
//   folder:PATH              one subfolder per class (or PATH/train + PATH/test holding those)

#include <cstdint>
#include <string>
#include <vector>

namespace scalelab {

enum class DatasetKind { FashionMnist, Mnist, Cifar10, ImageFolder };

struct DatasetSpec {
    DatasetKind kind = DatasetKind::FashionMnist;  // format of the files
    std::string path;  // folder holding the files; empty = locate automatically (Fashion-MNIST)
    int folderImageSize = 0;  // px; image folders only: 0 = keep the images' own size when they
                              // all share one no larger than 256 px, else resize to 64 x 64;
                              // > 0 = resize every image to this square size at load
    double folderTestFraction = 0.2;  // image folders without train/ and test/: share of each
                                      // class held out (with a fixed seed) as the test set
};

// Parses a spec string (see the top of this file). Throws SpecError on an unknown kind or a
// missing PATH.
DatasetSpec parseDatasetSpec(const std::string& text);

// The spec string for a spec ("mnist:/data/mnist"); Fashion-MNIST without a path is
// "fashion-mnist".
std::string toString(const DatasetSpec& spec);

// Display name of a kind ("Fashion-MNIST", "MNIST", "CIFAR-10", "Image folder").
std::string kindName(DatasetKind kind);

// Folders searched for Fashion-MNIST, in order: $SCALELAB_DATA, $SCALELAB_DATA/fashion-mnist,
// /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).
std::vector<std::string> fashionMnistSearchPath();

// The first folder of fashionMnistSearchPath() that holds the four IDX files; "" if none does.
std::string locateFashionMnist();

// The folder a spec reads from: its path, or the located Fashion-MNIST folder. Throws DataError
// when Fashion-MNIST cannot be found, listing where it looked.
std::string resolveDatasetPath(const DatasetSpec& spec);

// One row of the registry that `scalelab-cli datasets` prints and the GUI's picker shows.
struct DatasetEntry {
    std::string spec;        // spec string to load it with
    std::string name;        // display name
    std::string path;        // folder it is read from ("" when not found)
    bool available = false;  // the expected files are present
    std::string note;        // where it came from or how to get it
};

// Datasets found on this machine: Fashion-MNIST (always listed, available or not) and, under
// $SCALELAB_DATA and /usr/share/datasets, folders named mnist, cifar-10-batches-bin or cifar10.
std::vector<DatasetEntry> discoverDatasets();

}  // namespace scalelab
