// `info`: a model's architecture and exact cost, without running it.

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "app/cli/commands.h"
#include "app/cli/model_args.h"
#include "app/cli/option_checks.h"
#include "core/error.h"
#include "core/models/analysis.h"
#include "core/models/model_api.h"
#include "core/models/scaling_gap.h"
#include "core/train/run_folder.h"

namespace scalelab::cli {

namespace {

std::string withCommas(int64_t v) {
    std::string s = std::to_string(v < 0 ? -v : v);
    for (int i = int(s.size()) - 3; i > 0; i -= 3) {
        s.insert(size_t(i), ",");
    }
    return (v < 0 ? "-" : "") + s;
}

std::string mib(double bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f MiB", bytes / (1024.0 * 1024.0));
    return buf;
}

struct InfoOptions {
    ModelOptions model;
    int64_t batchSize = 128;  // for the training memory estimate
    bool json = false;
    bool stagesOnly = false;
};

struct ParityCaseOptions {
    ModelOptions model;
    std::string out;
    uint64_t seed = 1;
    int batch = 2;
};

int runInfo(const InfoOptions& o) {
    const ModelArgs m = parseModelArgs(o.model);
    const ModelSpec& spec = m.spec;
    const ModelAnalysis a = analyzeModel(spec);
    const int64_t batch = o.batchSize;

    // Any scaling: the predicted growth next to the exact one (relative to the unscaled model,
    // phi = 0). Compound scaling predicts (alpha beta^2 gamma^2)^phi, explicit scaling w^2 d r^2.
    const Scaling& sc = m.scaling;
    const bool scaled = sc.mode != Scaling::Mode::None;
    const bool compound = sc.mode == Scaling::Mode::Compound;
    // The gap between them split into channel, repeat and map-size rounding and structure
    // (core/models/scaling_gap.h).
    double perPhi = 0, predicted = 0, exact = 0;
    ScalingGap gap;
    if (scaled) {
        const ModelAnalysis a0 = analyzeModel(m.base);
        perPhi = compoundFlopsBase(sc.alpha, sc.beta, sc.gamma);
        predicted = compound ? std::pow(perPhi, sc.phi)
                             : sc.width * sc.width * sc.depth * sc.resolution * sc.resolution;
        exact = double(a.macs) / double(a0.macs);
        gap = scalingGap(m.base, sc);
    }
    const nlohmann::ordered_json gapJson = {{"exact_over_predicted", gap.gap()},
                                            {"channels", gap.channels},
                                            {"repeats", gap.repeats},
                                            {"map_size", gap.mapSize},
                                            {"structure", gap.structure}};
    if (o.json) {
        nlohmann::ordered_json j = nlohmann::ordered_json::parse(analysisToJson(a, true, batch));
        if (compound) {
            j["compound"] = {{"phi", sc.phi},
                             {"alpha", sc.alpha},
                             {"beta", sc.beta},
                             {"gamma", sc.gamma},
                             {"resolution_multiple", sc.resolutionMultiple},
                             {"alpha_beta2_gamma2", perPhi},
                             {"predicted_macs_growth", predicted},
                             {"exact_macs_growth", exact},
                             {"gap", gapJson}};
        } else if (scaled) {
            j["scaling"] = {{"width", sc.width},
                            {"depth", sc.depth},
                            {"resolution", sc.resolution},
                            {"resolution_multiple", sc.resolutionMultiple},
                            {"predicted_macs_growth", predicted},
                            {"exact_macs_growth", exact},
                            {"gap", gapJson}};
        }
        std::cout << j.dump(2) << "\n";
        return 0;
    }

    std::printf("%s\n", describeSpec(spec).c_str());
    if (!o.stagesOnly) {
        std::printf("\n%-34s %-26s %-16s %12s %15s\n", "LAYER", "TYPE", "OUTPUT (CxHxW)", "PARAMS",
                    "MACS");
        for (const LayerRow& r : a.layers) {
            const std::string shape = std::to_string(r.channels) + "x" + std::to_string(r.height) +
                                      "x" + std::to_string(r.width);
            std::printf("%-34s %-26s %-16s %12s %15s\n", r.name.c_str(), r.type.c_str(),
                        shape.c_str(), withCommas(r.params).c_str(), withCommas(r.macs).c_str());
        }
    }
    std::printf("\n%-12s %9s %8s %7s %10s %12s %15s\n", "STAGE", "CHANNELS", "REPEATS", "STRIDE",
                "OUTPUT", "PARAMS", "MACS");
    for (const StageCost& s : a.stages) {
        const std::string out = std::to_string(s.outHeight) + "x" + std::to_string(s.outWidth);
        std::printf("%-12s %9lld %8lld %7lld %10s %12s %15s\n", s.name.c_str(),
                    (long long)s.outChannels, (long long)s.repeats, (long long)s.stride,
                    out.c_str(), withCommas(s.params).c_str(), withCommas(s.macs).c_str());
    }
    std::printf("\n  input          %d x %d x %d px\n", spec.inChannels, spec.resolution,
                spec.resolution);
    std::printf("  params         %s (%s)\n", withCommas(a.params).c_str(),
                humanCount(double(a.params)).c_str());
    std::printf("  MACs           %s (%s) per image, conv + linear multiply-accumulates\n",
                withCommas(a.macs).c_str(), humanCount(double(a.macs)).c_str());
    std::printf("  FLOPs          %s (%s) = 2 x MACs\n", withCommas(a.flops()).c_str(),
                humanCount(double(a.flops())).c_str());
    std::printf(
        "  train memory   ~%s at batch %lld (estimate: activations kept for backward + "
        "weights, gradients, optimizer)\n",
        mib(a.trainingMemoryBytes(batch)).c_str(), (long long)batch);
    if (compound) {
        std::printf(
            "  compound       phi %.3g: d = %.3f^phi = %.3f, w = %.3f^phi = %.3f, r = "
            "%.3f^phi = %.3f\n",
            sc.phi, sc.alpha, sc.depthFactor(), sc.beta, sc.widthFactor(), sc.gamma,
            sc.resolutionFactor());
        std::printf(
            "                 alpha*beta^2*gamma^2 = %.4f; predicted MACs growth "
            "(%.4f)^phi = %.3fx; exact %.3fx vs phi = 0\n",
            perPhi, perPhi, predicted, exact);
    } else if (scaled) {
        std::printf(
            "  scaling        w %.3f, d %.3f, r %.3f: predicted MACs growth w^2*d*r^2 = %.3fx; "
            "exact %.3fx vs the unscaled %s\n",
            sc.width, sc.depth, sc.resolution, predicted, exact, m.base.name.c_str());
    }
    if (scaled) {
        std::printf(
            "  gap            exact / predicted = %.3fx = channels %.3fx * repeats %.3fx * map "
            "size %.3fx * structure %.3fx\n",
            gap.gap(), gap.channels, gap.repeats, gap.mapSize, gap.structure);
    }
    std::printf("  analysed in    %.3f ms\n", a.analysisSeconds * 1e3);
    return 0;
}

int runParityCase(const ParityCaseOptions& o) {
    const ModelSpec spec = parseModelArgs(o.model).spec;
    requireNoRunFiles(o.out, "--out");  // never replaces a trained run's weights
    writeParityCase(spec, o.seed, o.batch, o.out);
    std::printf("%s: weights.pt and io.pt written to %s\n", spec.name.c_str(), o.out.c_str());
    return 0;
}

}  // namespace

Command addInfo(CLI::App& app) {
    auto o = std::make_shared<InfoOptions>();
    CLI::App* sub =
        app.add_subcommand("info", "architecture and exact params / MACs, without running it");
    addModelOptions(*sub, o->model);
    sub->add_option("--batch-size", o->batchSize, "batch of the training memory estimate")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(1, 65536));
    sub->add_flag("--json", o->json, "the analysis as JSON");
    sub->add_flag("--stages-only", o->stagesOnly, "no per-layer table");
    return {sub, [o] { return runInfo(*o); }};
}

Command addParityCase(CLI::App& app) {
    auto o = std::make_shared<ParityCaseOptions>();
    CLI::App* sub = app.add_subcommand(
        "parity-case", "seeded weights + inputs + logits for the torchvision parity test");
    addModelOptions(*sub, o->model);
    sub->add_option("--out", o->out, "folder for weights.pt and io.pt")
        ->type_name("DIR")
        ->required();
    sub->add_option("--seed", o->seed, "seed of the weights and inputs")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(0, 2147483647));
    sub->add_option("--batch", o->batch, "input images")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(1, 64));
    return {sub, [o] { return runParityCase(*o); }};
}

}  // namespace scalelab::cli
