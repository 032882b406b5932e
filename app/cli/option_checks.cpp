#include "app/cli/option_checks.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace scalelab::cli {

namespace {

std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

// A finite number in [lo, hi] with the ends open where asked; `ends` is how help writes it.
CLI::Validator finiteIn(double lo, bool loOpen, double hi, bool hiOpen, const std::string& ends) {
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            char* end = nullptr;
            const double v = std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0' || !std::isfinite(v)) {
                return "expects a finite number " + (ends[0] == '[' ? "in " + ends : ends) +
                       ", got '" + text + "'";
            }
            if ((loOpen ? v <= lo : v < lo) || (hiOpen ? v >= hi : v > hi)) {
                return text + " is out of range (allowed: " + ends + ")";
            }
            return {};
        },
        ends);
}

}  // namespace

const CLI::Validator Decimal(
    [](std::string& text) -> std::string {
        const size_t sign = !text.empty() && text[0] == '-' ? 1 : 0;
        if (text.size() == sign ||
            text.find_first_not_of("0123456789", sign) != std::string::npos) {
            return "expects a whole number, got '" + text + "'";
        }
        const size_t first = std::min(text.find_first_not_of('0', sign), text.size() - 1);
        text = text.substr(0, sign) + text.substr(first);  // "007" -> "7": never octal
        return {};
    },
    "");

CLI::Validator halfOpen(double lo, double hi) {
    return finiteIn(lo, false, hi, true, "[" + fmt(lo) + ", " + fmt(hi) + ")");
}

CLI::Validator atLeast(double lo) {
    return finiteIn(lo, false, std::numeric_limits<double>::infinity(), true, ">= " + fmt(lo));
}

CLI::Validator above(double lo) {
    return finiteIn(lo, true, std::numeric_limits<double>::infinity(), true, "> " + fmt(lo));
}

std::string wrapText(const std::string& text, size_t width) {
    std::string out, line;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(' ', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        const std::string word = text.substr(start, end - start);
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            out += line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
        start = end + 1;
    }
    return out + line;
}

}  // namespace scalelab::cli
