#pragma once
// Device strings ("auto", "cpu", "cuda", "cuda:N") to LibTorch devices.

#include <torch/torch.h>

#include <string>

namespace scalelab {

// "auto" = CUDA when LibTorch has it and sees a GPU, else the CPU. Throws SpecError for an
// unknown string or a CUDA device that does not exist here.
torch::Device resolveDevice(const std::string& name);

}  // namespace scalelab
