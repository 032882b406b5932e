#!/usr/bin/env bash
# .clang-format is the law: every tracked C++ file must already be formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "SKIPPED: clang-format is not installed"; exit 77; }
files=$(git ls-files '*.cpp' '*.h' 2>/dev/null || find app core ui tests -name '*.cpp' -o -name '*.h')
clang-format --dry-run -Werror $files
echo "$(echo "$files" | wc -w) files formatted"
