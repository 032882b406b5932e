#include "core/data/dataset_spec.h"

#include <cstdlib>
#include <set>

#include "core/data/file_io.h"
#include "core/data/idx.h"
#include "core/error.h"

namespace scalelab {

namespace {

const char* const kSystemDatasets = "/usr/share/datasets";

bool holdsIdxSet(const std::string& folder) {
    for (const char* stem : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
        if (findIdxFile(folder, stem).empty()) {
            return false;
        }
    }
    return true;
}

bool holdsCifar10(const std::string& folder) {
    return fileExists(joinPath(folder, "data_batch_1.bin")) &&
           fileExists(joinPath(folder, "test_batch.bin"));
}

std::string envData() {
    const char* v = std::getenv("SCALELAB_DATA");
    return v ? std::string(v) : std::string();
}

}  // namespace

DatasetSpec parseDatasetSpec(const std::string& text) {
    DatasetSpec spec;
    const size_t colon = text.find(':');
    const std::string kind = text.substr(0, colon);
    const std::string path = colon == std::string::npos ? "" : text.substr(colon + 1);
    if (kind == "fashion-mnist" || kind == "fashion_mnist" || kind == "fashionmnist") {
        spec.kind = DatasetKind::FashionMnist;
    } else if (kind == "mnist") {
        spec.kind = DatasetKind::Mnist;
    } else if (kind == "cifar10" || kind == "cifar-10") {
        spec.kind = DatasetKind::Cifar10;
    } else if (kind == "folder") {
        spec.kind = DatasetKind::ImageFolder;
    } else {
        throw SpecError("dataset '" + text + "': unknown kind '" + kind +
                        "' (expected fashion-mnist, mnist:PATH, cifar10:PATH or folder:PATH)");
    }
    if (spec.kind != DatasetKind::FashionMnist && path.empty()) {
        throw SpecError("dataset '" + text + "': " + kind + " needs a folder, as " + kind +
                        ":PATH");
    }
    spec.path = path;
    return spec;
}

std::string toString(const DatasetSpec& spec) {
    switch (spec.kind) {
        case DatasetKind::FashionMnist:
            return spec.path.empty() ? "fashion-mnist" : "fashion-mnist:" + spec.path;
        case DatasetKind::Mnist:
            return "mnist:" + spec.path;
        case DatasetKind::Cifar10:
            return "cifar10:" + spec.path;
        case DatasetKind::ImageFolder:
            return "folder:" + spec.path;
    }
    return "?";
}

std::string kindName(DatasetKind kind) {
    switch (kind) {
        case DatasetKind::FashionMnist:
            return "Fashion-MNIST";
        case DatasetKind::Mnist:
            return "MNIST";
        case DatasetKind::Cifar10:
            return "CIFAR-10";
        case DatasetKind::ImageFolder:
            return "Image folder";
    }
    return "?";
}

std::vector<std::string> fashionMnistSearchPath() {
    std::vector<std::string> out;
    const std::string root = envData();
    if (!root.empty()) {
        out.push_back(root);
        out.push_back(joinPath(root, "fashion-mnist"));
    }
    out.push_back(joinPath(kSystemDatasets, "fashion-mnist"));
    return out;
}

std::string locateFashionMnist() {
    for (const std::string& folder : fashionMnistSearchPath()) {
        if (holdsIdxSet(folder)) {
            return folder;
        }
    }
    return {};
}

std::string resolveDatasetPath(const DatasetSpec& spec) {
    if (!spec.path.empty()) {
        return spec.path;
    }
    if (spec.kind != DatasetKind::FashionMnist) {
        throw SpecError(kindName(spec.kind) + ": no folder given");
    }
    const std::string found = locateFashionMnist();
    if (found.empty()) {
        std::string where;
        for (const std::string& folder : fashionMnistSearchPath()) {
            where += (where.empty() ? "" : ", ") + folder;
        }
        throw DataError("Fashion-MNIST not found (looked in " + where +
                        "); install Debian's dataset-fashion-mnist, set SCALELAB_DATA, or give "
                        "fashion-mnist:PATH");
    }
    return found;
}

std::vector<DatasetEntry> discoverDatasets() {
    std::vector<DatasetEntry> out;
    {
        DatasetEntry e;
        e.spec = "fashion-mnist";
        e.name = "Fashion-MNIST";
        e.path = locateFashionMnist();
        e.available = !e.path.empty();
        e.note = e.available ? "default dataset"
                             : "not found: apt install dataset-fashion-mnist or set SCALELAB_DATA";
        out.push_back(e);
    }
    std::vector<std::string> roots;
    if (!envData().empty()) {
        roots.push_back(envData());
    }
    roots.push_back(kSystemDatasets);
    std::set<std::string> seen;
    for (const std::string& root : roots) {
        for (const char* sub : {"mnist", "MNIST"}) {
            const std::string folder = joinPath(root, sub);
            if (holdsIdxSet(folder) && seen.insert(folder).second) {
                out.push_back({"mnist:" + folder, "MNIST", folder, true, "found under " + root});
            }
        }
        for (const char* sub : {"cifar-10-batches-bin", "cifar10", "cifar-10"}) {
            std::string folder = joinPath(root, sub);
            if (!holdsCifar10(folder)) {
                folder = joinPath(folder, "cifar-10-batches-bin");
            }
            if (holdsCifar10(folder) && seen.insert(folder).second) {
                out.push_back(
                    {"cifar10:" + folder, "CIFAR-10", folder, true, "found under " + root});
            }
        }
    }
    return out;
}

}  // namespace scalelab
