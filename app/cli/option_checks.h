#pragma once
// What scalelab-cli's option table needs beyond stock CLI11 2.1: strict whole numbers, finite
// numbers in half-open intervals, and choices spelled by core's enum tables.

#include <CLI/CLI.hpp>

#include <map>
#include <string>
#include <vector>

#include "core/json_enums.h"

namespace scalelab::cli {

// CLI11 2.1 reads whole numbers with strtoll(text, 0): "010" is octal 8, "0x10" is 16, " 12"
// and "+12" pass. Put before an option's CLI::Range with ->transform(Decimal): only base-10
// digits with an optional '-' pass ("007" is 7); anything else is "expects a whole number".
// Wrap-around and values beyond the field's type are the Range's to refuse.
extern const CLI::Validator Decimal;

// A finite number in [lo, hi) (CLI::Range is closed and lets NaN through: every comparison with
// NaN is false). The ends are those core's checks use; help and messages write them the same way.
CLI::Validator halfOpen(double lo, double hi);
// A finite number >= lo.
CLI::Validator atLeast(double lo);
// A finite number > lo.
CLI::Validator above(double lo);

// An option taking one name of an enum, spelled as its table in core/json_enums.h spells it: the
// check lists every name and --help shows the name of `value`'s current value.
template <class E>
CLI::Option* addChoice(CLI::App& app, const std::string& name, E& value,
                       const std::string& description) {
    return app
        .add_option_function<std::string>(
            name, [&value, name](const std::string& text) { value = enumFromName<E>(text, name); },
            description)
        ->check(CLI::IsMember(enumNameList<E>()))
        ->default_str(enumName(value));
}

// Words joined into lines of at most `width` characters ('\n' between lines, none at the end).
std::string wrapText(const std::string& text, size_t width = 64);

}  // namespace scalelab::cli
