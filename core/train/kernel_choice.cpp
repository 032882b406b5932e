#include "core/train/kernel_choice.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/data/file_io.h"
#include "core/error.h"
#include "core/json_enums.h"
#include "core/models/inference_net.h"
#include "core/models/model.h"
#include "core/models/spec_json.h"
#include "core/runtime.h"
#include "core/train/kernel_choice_json.h"

namespace scalelab {

namespace {

constexpr int kCacheVersion = 4;  // 2: inference candidates include oneDNN's blocked layout;
                                  // 3: training is timed on the training path (train_path.h);
                                  // 4: and oneDNN's Winograd convolutions (onednn_conv.h)
constexpr const char* kRunFile = "kernels.json";

// FNV-1a, 64 bits, as 16 hex digits: a short stable name for a plan in the cache key.
std::string fnv1a(const std::string& text) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char ch : text) {
        h ^= ch;
        h *= 1099511628211ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

bool planHasDepthwise(const ArchPlan& plan) {
    return std::any_of(plan.layers.begin(), plan.layers.end(),
                       [](const PlanLayer& l) { return l.kind == LayerKind::DepthwiseConv; });
}

std::string cacheKey(const KernelRequest& r, int64_t batch) {
    std::ostringstream k;
    k << cpuModelName() << " | " << r.threads << " threads | LibTorch "
      << runtimeInfo().torchVersion << " | " << (r.training ? "train" : "infer") << " | batch "
      << batch << " | " << r.plan.spec.name << " " << r.plan.spec.resolution << " px "
      << fnv1a(planToJson(r.plan).dump());
    return k.str();
}

nlohmann::json timingsToJson(const std::vector<KernelTiming>& timings) {
    nlohmann::json out = nlohmann::json::array();
    for (const KernelTiming& t : timings) {
        out.push_back({{"channels_last", t.channelsLast},
                       {"fast_depthwise", t.fastDepthwise},
                       {"ms_per_step", t.msPerStep},
                       {"batch", t.batch},
                       {"cut_after_warmup", t.cut},
                       {"blocked", t.blocked},
                       {"winograd", t.winograd}});
    }
    return out;
}

std::vector<KernelTiming> timingsFromJson(const nlohmann::json& j) {
    std::vector<KernelTiming> out;
    if (!j.is_array()) {
        return out;
    }
    for (const auto& t : j) {
        KernelTiming k;
        k.channelsLast = t.at("channels_last").get<bool>();
        k.fastDepthwise = t.at("fast_depthwise").get<bool>();
        k.msPerStep = t.at("ms_per_step").get<double>();
        k.batch = t.at("batch").get<int64_t>();
        k.cut = t.value("cut_after_warmup", false);
        k.blocked = t.value("blocked", false);
        k.winograd = t.value("winograd", false);
        out.push_back(k);
    }
    return out;
}

// The cache as JSON: {"version": 1, "entries": {key: {...}}}. A missing file is an empty cache;
// an unreadable one too, with `note` saying so (it is rewritten on the next store).
nlohmann::json loadCache(const std::string& path, std::string& note) {
    nlohmann::json empty = {{"version", kCacheVersion}, {"entries", nlohmann::json::object()}};
    std::ifstream in(path);
    if (!in) {
        return empty;
    }
    try {
        nlohmann::json j = nlohmann::json::parse(in);
        if (!j.is_object() || j.value("version", 0) != kCacheVersion || !j.contains("entries") ||
            !j["entries"].is_object()) {
            note = "kernel cache " + path + " is not a version-" + std::to_string(kCacheVersion) +
                   " cache: measured again";
            return empty;
        }
        return j;
    } catch (const std::exception& e) {
        note = "kernel cache " + path + " is unreadable (" + e.what() + "): measured again";
        return empty;
    }
}

void storeInCache(const std::string& path, const std::string& key, const KernelChoice& choice,
                  std::string& note) {
    std::string ignored;
    nlohmann::json cache = loadCache(path, ignored);  // merge with what others wrote meanwhile
    cache["entries"][key] = {{"channels_last", choice.channelsLast},
                             {"fast_depthwise", choice.fastDepthwise},
                             {"blocked", choice.blocked},
                             {"winograd", choice.winograd},
                             {"timings", timingsToJson(choice.timings)}};
    try {
        const std::string dir = path.substr(0, path.find_last_of('/'));
        if (!dir.empty() && dir != path) {
            std::error_code ec;
            std::filesystem::create_directories(dir, ec);  // a failure shows in the write below
        }
        writeFileAtomic(path, cache.dump(1) + "\n");
    } catch (const std::exception& e) {
        note = "kernel choice not cached (" + std::string(e.what()) + ")";
    }
}

// The fastest timed step of one candidate, ms. A candidate whose warm-up step already took over
// 1.5 x the best candidate's timed step is cut there (`cut`): a warm-up includes first-use costs
// and so is rarely faster than the steps after it, and a candidate that far behind would have to
// speed up by a third to win. Timing it further would only delay the run's first batch.
template <typename Candidate>
double timeCandidate(const KernelRequest& r, int64_t batch, const Candidate& k, double bestSoFar,
                     bool& cut) {
    torch::manual_seed(0);
    ScaleModel model = buildModelFromPlan(r.plan);
    model->setChannelsLast(k.channelsLast);
    model->setFastDepthwise(k.fast);
    model->setBlockedInference(k.blocked);
    model->setWinogradInference(k.winograd);
    const ModelSpec& s = r.plan.spec;
    const auto x = torch::randn({batch, s.inChannels, s.resolution, s.resolution});
    const auto y = torch::randint(s.numClasses, {batch}, torch::kInt64);
    torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    std::unique_ptr<InferenceNet> net;
    if (!r.training) {
        model->eval();
        net = std::make_unique<InferenceNet>(*model);  // what evaluation runs
        if (k.winograd) {
            // oneDNN generates its kernels and lays out the weights once per input shape (about
            // as long as three forwards): a one-off, like building the net, not part of a step.
            torch::NoGradGuard guard;
            (void)net->forward(x);
        }
    }
    double best = 1e300;
    cut = false;
    for (int step = 0; step < 1 + r.timedSteps; ++step) {
        const auto t0 = std::chrono::steady_clock::now();
        if (r.training) {
            model->train();
            opt.zero_grad();
            torch::nn::functional::cross_entropy(model->forward(x), y).backward();
            opt.step();
        } else {
            (void)net->forward(x);
        }
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        if (step == 0 && ms > 1.5 * bestSoFar) {
            cut = true;
            return ms;
        }
        if (step > 0) {
            best = std::min(best, ms);
        }
    }
    return best;
}

}  // namespace

std::string layoutChoiceName(LayoutChoice choice) {
    return enumName(choice);
}

std::string depthwiseChoiceName(DepthwiseChoice choice) {
    return enumName(choice);
}

LayoutChoice parseLayoutChoice(const std::string& name, const std::string& what) {
    return enumFromName<LayoutChoice>(name, what);
}

DepthwiseChoice parseDepthwiseChoice(const std::string& name, const std::string& what) {
    return enumFromName<DepthwiseChoice>(name, what);
}

std::string kernelCacheFile() {
    if (const char* d = std::getenv("SCALELAB_CACHE_DIR"); d && *d) {
        return std::string(d) + "/kernels.json";
    }
    if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) {
        return std::string(d) + "/scalelab/kernels.json";
    }
    if (const char* h = std::getenv("HOME"); h && *h) {
        return std::string(h) + "/.cache/scalelab/kernels.json";
    }
    return "";
}

std::string cpuModelName() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) {
                std::string name = line.substr(colon + 1);
                name.erase(0, name.find_first_not_of(" \t"));
                return name;
            }
        }
    }
    return "unknown CPU";
}

KernelChoice chooseKernels(const KernelRequest& r, const ProgressFn& progress) {
    KernelChoice c;
    const bool hasDw = planHasDepthwise(r.plan);
    if (r.gpu) {
        c.source = "gpu";
        c.channelsLast = r.layout == LayoutChoice::ChannelsLast;
        c.fastDepthwise = r.depthwise != DepthwiseChoice::LibTorch;  // ours runs LibTorch's there
        return c;
    }
    const bool layoutFree = r.layout == LayoutChoice::Auto;
    const bool dwFree = hasDw && r.depthwise == DepthwiseChoice::Auto;
    c.channelsLast = r.layout == LayoutChoice::ChannelsLast;
    c.fastDepthwise = r.depthwise != DepthwiseChoice::LibTorch;
    if (!layoutFree && !dwFree) {
        c.source = "flags";
        return c;
    }
    const int64_t batch = std::max<int64_t>(1, std::min(r.batchSize, r.maxBatch));
    // The key covers the free choices too: a fixed flag narrows what is compared.
    c.key = cacheKey(r, batch) + " | layout " + layoutChoiceName(r.layout) + ", depthwise " +
            (hasDw ? depthwiseChoiceName(r.depthwise) : "none");
    const std::string path = r.cacheFile.empty() ? kernelCacheFile() : r.cacheFile;
    const bool useCache = path != "-" && !path.empty();
    if (useCache) {
        const nlohmann::json cache = loadCache(path, c.note);
        const auto& entries = cache["entries"];
        if (entries.contains(c.key)) {
            try {
                const auto& e = entries[c.key];
                c.channelsLast = e.at("channels_last").get<bool>();
                c.fastDepthwise = e.at("fast_depthwise").get<bool>();
                c.blocked = e.value("blocked", false);
                c.winograd = e.value("winograd", false);
                c.timings = timingsFromJson(e.value("timings", nlohmann::json::array()));
                c.source = "cache";
                return c;
            } catch (const std::exception& e) {
                c.note =
                    "kernel cache entry unreadable (" + std::string(e.what()) + "): measured again";
            }
        }
    }
    struct Candidate {
        bool channelsLast, fast, blocked, winograd;
    };
    std::vector<Candidate> candidates;
    for (bool cl : {false, true}) {
        if (!layoutFree && cl != c.channelsLast) {
            continue;
        }
        for (bool fast : {true, false}) {
            if (!dwFree && fast != c.fastDepthwise) {
                continue;
            }
            candidates.push_back({cl, fast, false, false});
        }
    }
    // Inference may also run in oneDNN's blocked layout, where the plan allows it.
    if (!r.training && layoutFree && InferenceNet::blockedSupported(r.plan)) {
        candidates.push_back({false, c.fastDepthwise, true, false});
    }
    // And with every convolution on oneDNN directly, Winograd for 3x3/1 (AVX-512 processors).
    if (!r.training && layoutFree && InferenceNet::winogradSupported(r.plan)) {
        candidates.push_back({false, c.fastDepthwise, false, true});
    }
    reportProgress(progress, 0, int64_t(candidates.size()));
    // Timing draws random weights and data: the caller's random stream (dropout, stochastic
    // depth) must not depend on whether the choice came from the cache or was measured now.
    struct RestoreGenerator {
        at::Generator gen = at::detail::getDefaultCPUGenerator();
        at::Tensor state = gen.get_state();
        ~RestoreGenerator() { gen.set_state(state); }
    } restore;
    double best = 1e300;
    for (size_t i = 0; i < candidates.size(); ++i) {
        const Candidate& k = candidates[i];
        KernelTiming t{k.channelsLast, k.fast, 0, batch};
        t.blocked = k.blocked;
        t.winograd = k.winograd;
        t.msPerStep = timeCandidate(r, batch, k, best, t.cut);
        c.timings.push_back(t);
        if (t.msPerStep < best) {
            best = t.msPerStep;
            c.channelsLast = k.channelsLast;
            c.fastDepthwise = k.fast;
            c.blocked = k.blocked;
            c.winograd = k.winograd;
        }
        reportProgress(progress, int64_t(i + 1), int64_t(candidates.size()));
    }
    c.source = "measured";
    if (useCache) {
        storeInCache(path, c.key, c, c.note);
    }
    return c;
}

std::string describeKernelChoice(const KernelChoice& c, bool hasDepthwise) {
    std::ostringstream s;
    s << (c.winograd       ? "oneDNN Winograd"
          : c.blocked      ? "oneDNN blocked"
          : c.channelsLast ? "channels-last"
                           : "NCHW");
    if (hasDepthwise) {
        s << (c.fastDepthwise ? ", our depthwise" : ", LibTorch's depthwise");
    }
    s << " (" << c.source;
    if (!c.timings.empty()) {
        s << ":";
        for (size_t i = 0; i < c.timings.size(); ++i) {
            const KernelTiming& t = c.timings[i];
            char ms[32];
            std::snprintf(ms, sizeof ms, "%.1f", t.msPerStep);
            s << (i ? "," : "") << " "
              << (t.winograd       ? "winograd"
                  : t.blocked      ? "blocked"
                  : t.channelsLast ? "channels-last"
                                   : "NCHW");
            if (hasDepthwise) {
                s << (t.fastDepthwise ? "+ours" : "+LibTorch");
            }
            s << (t.cut ? " >" : " ") << ms << " ms";
        }
        s << " a step of " << c.timings.front().batch;
    }
    s << ")";
    return s.str();
}

nlohmann::ordered_json kernelChoiceToJson(const KernelChoice& c) {
    nlohmann::ordered_json j;
    j["channels_last"] = c.channelsLast;
    j["fast_depthwise"] = c.fastDepthwise;
    j["blocked"] = c.blocked;
    j["winograd"] = c.winograd;
    j["source"] = c.source;
    j["key"] = c.key;
    j["note"] = c.note;
    j["timings"] = timingsToJson(c.timings);
    return j;
}

void writeKernelChoice(const std::string& runDir, const KernelChoice& c) {
    writeFileAtomic(runDir + "/" + kRunFile, kernelChoiceToJson(c).dump(2) + "\n");
}

bool readKernelChoice(const std::string& runDir, KernelChoice& c) {
    std::ifstream in(runDir + "/" + kRunFile);
    if (!in) {
        return false;
    }
    try {
        const nlohmann::json j = nlohmann::json::parse(in);
        KernelChoice r;
        r.channelsLast = j.at("channels_last").get<bool>();
        r.fastDepthwise = j.at("fast_depthwise").get<bool>();
        r.blocked = j.value("blocked", false);
        r.winograd = j.value("winograd", false);
        r.source = "recorded";
        r.key = j.value("key", "");
        r.timings = timingsFromJson(j.value("timings", nlohmann::json::array()));
        c = r;
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace scalelab
