#pragma once
// A generated, learnable dataset for core tests: no files, no Fashion-MNIST needed. Each class
// has a fixed random prototype image; a sample is its class's prototype plus Gaussian noise, so
// a small network separates the classes within one epoch while the task is not trivial.

#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>

#include "core/data/dataset.h"

namespace scalelab::test {

struct SyntheticOptions {
    int classes = 10;     // labels 0..classes-1, taken in turn (balanced)
    int train = 2000;     // training images
    int test = 500;       // test images
    int channels = 1;     // image channels
    int side = 28;        // px, square images
    double noise = 60.0;  // standard deviation of the per-pixel noise, 0..255 scale
    uint64_t seed = 7;    // the same seed, the same images
};

inline std::shared_ptr<const Dataset> syntheticDataset(const SyntheticOptions& o = {}) {
    std::mt19937_64 rng(o.seed);
    std::uniform_int_distribution<int> pixel(0, 255);
    std::normal_distribution<double> noise(0.0, o.noise);
    const int64_t size = int64_t(o.channels) * o.side * o.side;
    std::vector<std::vector<double>> prototypes(size_t(o.classes),
                                                std::vector<double>(size_t(size)));
    for (auto& p : prototypes) {
        for (double& v : p) {
            v = pixel(rng);
        }
    }
    auto make = [&](int count, torch::Tensor& images, torch::Tensor& labels) {
        images = torch::empty({count, o.channels, o.side, o.side}, torch::kUInt8);
        labels = torch::empty({count}, torch::kInt64);
        uint8_t* px = images.data_ptr<uint8_t>();
        int64_t* lb = labels.data_ptr<int64_t>();
        for (int i = 0; i < count; ++i) {
            const int k = i % o.classes;
            lb[i] = k;
            for (int64_t p = 0; p < size; ++p) {
                const double v = prototypes[size_t(k)][size_t(p)] + noise(rng);
                px[i * size + p] = uint8_t(std::clamp(v, 0.0, 255.0));
            }
        }
    };
    auto ds = std::make_shared<Dataset>();
    ds->name = "Synthetic";
    ds->spec = "synthetic";
    ds->path = "(generated in memory)";
    for (int k = 0; k < o.classes; ++k) {
        ds->classNames.push_back("class " + std::to_string(k));
    }
    make(o.train, ds->trainImages, ds->trainLabels);
    make(o.test, ds->testImages, ds->testLabels);
    ds->note = "generated: class prototypes plus Gaussian noise";
    return ds;
}

}  // namespace scalelab::test
