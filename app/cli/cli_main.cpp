// scalelab-cli: the headless side of ScaleLab.

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/model_args.h"
#include "app/cli/terminal_progress.h"
#include "core/error.h"
#include "core/runtime.h"

namespace {

const char* const kUsage = R"(usage: scalelab-cli COMMAND [options]

commands:
  datasets                      list the datasets found on this machine
  dataset-info --dataset SPEC [--json]
                                sizes, classes, channels, image size, per-channel mean/std
  info --model NAME [scaling options] [--json] [--stages-only] [--batch-size B]
                                architecture and exact params / MACs, without running it
  parity-case --model NAME --out DIR [--seed S] [--batch N]
                                seeded weights + inputs + logits for the torchvision parity test
  train --model NAME [scaling options] [--dataset SPEC] --epochs N --batch-size B --lr LR
        [--optimizer sgd|adamw] [--subset N] [--device auto|cpu|cuda[:N]] --out DIR [--jsonl]
        [--momentum M --no-nesterov --weight-decay WD --label-smoothing S
         --schedule cosine|step|constant --warmup-epochs E --step-epochs N --step-gamma G
         --val-fraction F --test-subset N --seed S --threads T --crop-padding P --hflip
         --allow-memory]
                                train into a run folder (Ctrl-C stops after the current batch;
                                exit 0 completed, 3 diverged, 130 cancelled)
  train --resume DIR            continue a run from its last finished epoch
  eval --run DIR [--dataset SPEC] [--json]
                                test accuracy, per-class accuracy, confusion matrix
  prune --run DIR --method magnitude-global|magnitude-layer|l1-structured[,...]
        --levels 0,0.25,0.5,0.75 [--finetune-epochs N] --out FILE.csv [--save-model DIR]
        [--per-stage] [--include-classifier] [--test-subset N] [--finetune-subset N]
                                prune a trained run at each level, test, fine-tune, test again
  features --run DIR (--index I | --image PATH) --stage S --out DIR [--class K]
        [--max-channels N] [--by-index]
                                stage activations grid, Grad-CAM overlay and input as PNGs
  bench --model NAME [--resolution PX] [--batch-size B] [--steps N] [--device D] [--json]
                                training and inference images/s on random data (warm-up
                                excluded); --no-channels-last, --torch-depthwise to compare;
                                --allow-memory runs a batch above the available memory
  bench-ops [--batch-size B] [--reps R]
                                kernel timings: depthwise conv (LibTorch vs ours), matmul peak
  version                       ScaleLab, LibTorch, device and thread count
  help                          this text

SPEC: fashion-mnist (default; found automatically), fashion-mnist:PATH, mnist:PATH,
      cifar10:PATH or folder:PATH (one subfolder of images per class).
%MODEL%
Environment: SCALELAB_DATA  a folder searched first for fashion-mnist (and mnist/, cifar10/).
)";

std::string usage() {
    std::string u = kUsage;
    u.replace(u.find("%MODEL%"), 7, scalelab::cli::modelOptionsHelp());
    return u;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace scalelab;
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
        std::fputs(usage().c_str(), args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    for (const std::string& a : args) {
        if (a == "--help" || a == "-h") {  // every subcommand: the usage, exit 0
            std::fputs(usage().c_str(), stdout);
            return 0;
        }
    }
    cli::installInterruptHandlers();  // Ctrl-C cancels loading, training and evaluation alike
    try {
        keepFreedMemory();    // reuse freed activations instead of faulting fresh pages in
        applyThreadCount(0);  // every core unless a command says otherwise
        if (command == "version") {
            std::cout << "scalelab-cli 0.1.0\n" << describeRuntime(runtimeInfo()) << "\n";
            return 0;
        }
        if (command == "info") {
            return cli::runInfo(args);
        }
        if (command == "train") {
            return cli::runTrain(args);
        }
        if (command == "eval") {
            return cli::runEval(args);
        }
        if (command == "prune") {
            return cli::runPrune(args);
        }
        if (command == "features") {
            return cli::runFeatures(args);
        }
        if (command == "bench") {
            return cli::runBench(args);
        }
        if (command == "bench-ops") {
            return cli::runBenchOps(args);
        }
        if (command == "parity-case") {
            return cli::runParityCase(args);
        }
        if (command == "datasets") {
            return cli::runDatasets(args);
        }
        if (command == "dataset-info") {
            return cli::runDatasetInfo(args);
        }
        throw cli::UsageError("unknown command '" + command + "'");
    } catch (const cli::UsageError& e) {
        std::cerr << "scalelab-cli " << command << ": " << e.what() << "\n\n" << usage();
        return 2;
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
