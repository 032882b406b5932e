// `info`: a model's architecture and exact cost, without running it.

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/model_args.h"
#include "core/error.h"
#include "core/models/analysis.h"
#include "core/models/model_api.h"
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

}  // namespace

int runInfo(const std::vector<std::string>& argv) {
    std::set<std::string> opts = modelValueOptions();
    opts.insert("batch-size");
    Args args(argv, opts, {"json", "stages-only"});
    const ModelArgs m = parseModelArgs(args);
    const ModelSpec& spec = m.spec;
    const ModelAnalysis a = analyzeModel(spec);
    const int64_t batch = args.getInt("batch-size", 128, 1, 65536);
    if (batch < 1 || batch > 65536) {
        throw SpecError("--batch-size = " + args.get("batch-size") + " must be 1..65536");
    }

    // Any scaling: the predicted growth next to the exact one (relative to the unscaled model,
    // phi = 0). Compound scaling predicts (alpha beta^2 gamma^2)^phi, explicit scaling w^2 d r^2.
    const Scaling& sc = m.scaling;
    const bool scaled = sc.mode != Scaling::Mode::None;
    const bool compound = sc.mode == Scaling::Mode::Compound;
    double perPhi = 0, predicted = 0, exact = 0;
    if (scaled) {
        const ModelAnalysis a0 = analyzeModel(m.base);
        perPhi = compoundFlopsBase(sc.alpha, sc.beta, sc.gamma);
        predicted = compound ? std::pow(perPhi, sc.phi)
                             : sc.width * sc.width * sc.depth * sc.resolution * sc.resolution;
        exact = double(a.macs) / double(a0.macs);
    }
    if (args.flag("json")) {
        nlohmann::ordered_json j = nlohmann::ordered_json::parse(analysisToJson(a, true, batch));
        if (compound) {
            j["compound"] = {{"phi", sc.phi},
                             {"alpha", sc.alpha},
                             {"beta", sc.beta},
                             {"gamma", sc.gamma},
                             {"alpha_beta2_gamma2", perPhi},
                             {"predicted_macs_growth", predicted},
                             {"exact_macs_growth", exact}};
        } else if (scaled) {
            j["scaling"] = {{"width", sc.width},
                            {"depth", sc.depth},
                            {"resolution", sc.resolution},
                            {"predicted_macs_growth", predicted},
                            {"exact_macs_growth", exact}};
        }
        std::cout << j.dump(2) << "\n";
        return 0;
    }

    std::printf("%s\n", describeSpec(spec).c_str());
    if (!args.flag("stages-only")) {
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
    std::printf("  analysed in    %.3f ms\n", a.analysisSeconds * 1e3);
    return 0;
}

int runParityCase(const std::vector<std::string>& argv) {
    std::set<std::string> opts = modelValueOptions();
    opts.insert({"out", "seed", "batch"});
    Args args(argv, opts, {});
    if (!args.has("out")) {
        throw UsageError("parity-case needs --out DIR");
    }
    const ModelSpec spec = modelSpecFromArgs(args);
    requireNoRunFiles(args.get("out"), "--out");  // never replaces a trained run's weights
    writeParityCase(spec, uint64_t(args.getInt("seed", 1, 0, 2147483647)),
                    args.getInt("batch", 2, 1, 64), args.get("out"));
    std::printf("%s: weights.pt and io.pt written to %s\n", spec.name.c_str(),
                args.get("out").c_str());
    return 0;
}

}  // namespace scalelab::cli
