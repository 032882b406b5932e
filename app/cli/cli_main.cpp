// scalelab-cli: the headless side of ScaleLab.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "app/cli/commands.h"
#include "app/cli/model_args.h"
#include "app/cli/option_checks.h"
#include "app/cli/terminal_progress.h"
#include "core/error.h"
#include "core/runtime.h"

namespace {

const char* const kFooter =
    R"(SPEC: fashion-mnist (default; found automatically), fashion-mnist:PATH, mnist:PATH,
      cifar10:PATH or folder:PATH (one subfolder of images per class).
Environment: SCALELAB_DATA  a folder searched first for fashion-mnist (and mnist/, cifar10/).
             SCALELAB_CACHE_DIR  where measured kernel choices are kept (default:
                                 $XDG_CACHE_HOME/scalelab or ~/.cache/scalelab).
             SCALELAB_MEMORY_ARENA=0  large tensors on malloc instead of ScaleLab's own memory
                                      region (for comparisons; see docs/BENCHMARKS.md).
Exit codes: 0 ok, 1 error, 2 usage, 3 training diverged, 130 cancelled.
`scalelab-cli COMMAND --help` lists a command's options.)";

// The text `scalelab-cli --help` prints.
std::string topHelp(const CLI::App& app) {
    return app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
}

// The command called `name`; nullptr when there is none.
const CLI::App* findCommand(const CLI::App& app, const std::string& name) {
    const auto found =
        app.get_subcommands([&name](const CLI::App* sub) { return sub->get_name() == name; });
    return found.empty() ? nullptr : found.front();
}

// A usage error: the message after the command it concerns, and where the options are listed.
int usageError(const std::string& command, const std::string& message) {
    const std::string who = "scalelab-cli" + (command.empty() ? "" : " " + command);
    std::cerr << who << ": " << message << "\n(" << who << " --help shows "
              << (command.empty() ? "the commands" : "its options") << ")\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace scalelab;
    CLI::App app("scalelab-cli: the headless side of ScaleLab", "scalelab-cli");
    const std::shared_ptr<CLI::Formatter> format = std::make_shared<CLI::Formatter>();
    format->label("Usage", "usage");
    format->label("OPTIONS", "options");
    format->label("SUBCOMMAND", "COMMAND");
    format->column_width(32);
    app.formatter(format);
    app.footer(std::string(kFooter) + "\n\n" + cli::modelNamesHelp());
    app.require_subcommand(1);
    // As before CLI11: an option given twice takes the last value.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)->group("options");
    app.set_help_flag("-h,--help", "print this help and exit");

    std::vector<cli::Command> commands = {
        cli::addDatasets(app),   cli::addDatasetInfo(app), cli::addInfo(app),
        cli::addParityCase(app), cli::addTrain(app),       cli::addEval(app),
        cli::addPrune(app),      cli::addFeatures(app),    cli::addBench(app),
        cli::addBenchOps(app),   cli::addSweep(app),       cli::addExport(app)};
    CLI::App* version =
        app.add_subcommand("version", "ScaleLab, LibTorch, device and thread count");
    CLI::App* help = app.add_subcommand("help", "this text, or a command's options");
    std::string helpOn;
    help->add_option("command", helpOn, "the command whose options to show");
    for (const cli::Command& c : commands) {
        const bool takesModel = c.sub->get_option_no_throw("--model") != nullptr;
        c.sub->footer(std::string(kFooter) + (takesModel ? "\n\n" + cli::modelNamesHelp() : ""));
    }
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        sub->group("commands")->description(cli::wrapText(sub->get_description(), 66));
        sub->set_help_flag("-h,--help", "print this help and exit");  // in the "options" group
    }

    if (argc < 2) {
        std::cerr << topHelp(app);
        return 2;
    }
    // The command the messages name: the first argument when it is one.
    const std::string first = argv[1];
    std::string command = findCommand(app, first) != nullptr ? first : "";
    // A command with commands of its own ("sweep plan"): messages name both.
    if (const CLI::App* c = findCommand(app, first); c != nullptr && argc > 2) {
        command += findCommand(*c, argv[2]) != nullptr ? " " + std::string(argv[2]) : "";
    }
    if (first.rfind('-', 0) != 0 && command.empty()) {
        return usageError("", "unknown command '" + first + "'");
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();  // the chosen command's help, or the app's
        return 0;
    } catch (const CLI::ParseError& e) {
        return usageError(command, e.what());
    }

    cli::installInterruptHandlers();  // Ctrl-C cancels loading, training and evaluation alike
    try {
        useMemoryArena();     // large tensors in a region of their own: less fragmentation
        keepFreedMemory();    // reuse freed activations instead of faulting fresh pages in
        applyThreadCount(0);  // every core unless a command says otherwise
        if (help->parsed()) {
            if (helpOn.empty()) {
                std::cout << topHelp(app);
                return 0;
            }
            const CLI::App* sub = findCommand(app, helpOn);
            if (sub == nullptr) {
                throw cli::UsageError("unknown command '" + helpOn + "'");
            }
            std::cout << sub->help(app.get_name());
            return 0;
        }
        if (version->parsed()) {
            std::cout << "scalelab-cli " << scalelabVersion() << "\n"
                      << describeRuntime(runtimeInfo()) << "\n";
            return 0;
        }
        for (const cli::Command& c : commands) {
            if (c.sub->parsed()) {
                return c.run();
            }
        }
        throw cli::UsageError("no command given");
    } catch (const cli::UsageError& e) {
        return usageError(command, e.what());
    } catch (const Cancelled&) {
        std::cerr << "cancelled (interrupted)\n";
        return 130;
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        // A library's own exception that no check caught first: one line, no internals.
        std::cerr << "error: " << command << ": " << libraryMessage(e) << "\n";
        return 1;
    }
}
