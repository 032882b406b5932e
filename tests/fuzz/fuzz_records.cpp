// libFuzzer target: every run-record JSON the core reads -- model spec, plan (also ScaleLab 0.1's
// block_widths), training config (config.json), summary, evaluation result and epoch history
// (summary.json and the parts of session files) -- from the same bytes. Seed corpus:
// tests/fuzz/corpus/records/.
#include <nlohmann/json.hpp>

#include "core/models/arch_plan.h"
#include "core/models/spec_json.h"
#include "core/train/train_api.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    using namespace scalelab;
    fuzz::expectOnlyCoreErrors([&] { trainConfigFromJson(text, "config.json"); });
    fuzz::expectOnlyCoreErrors([&] { evalResultFromJson(text, "summary.json"); });
    fuzz::expectOnlyCoreErrors([&] { epochHistoryFromJson(text, "session.json"); });
    fuzz::expectOnlyCoreErrors([&] { trainSummaryFromJson(text, "summary.json"); });
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_discarded()) {
        fuzz::expectOnlyCoreErrors([&] { specFromJson(j); });
        fuzz::expectOnlyCoreErrors([&] { planFromJson(j); });
        if (j.is_object() && j.contains("model")) {
            fuzz::expectOnlyCoreErrors([&] {
                planFromJson(
                    {{"spec", j["model"]}, {"inner_widths", j.value("inner", nlohmann::json())}});
            });
        }
    }
    return 0;
}
