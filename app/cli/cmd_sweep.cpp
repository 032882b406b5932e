// `sweep plan`, `sweep run` and `sweep status`.
//
// A sweep's settings are `train` options as text. Each planned run's settings are read by the
// same option table `train` uses (addTrainSettings, with its ranges), then resolved like `train`
// resolves them (dataset shape, family defaults) and checked with the core's validateTrainConfig:
// a grid that plans an impossible run is refused before anything is written.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "app/cli/commands.h"
#include "app/cli/model_args.h"
#include "app/cli/option_checks.h"
#include "app/cli/sweep_exec.h"
#include "app/cli/train_options.h"
#include "core/data/file_io.h"
#include "core/error.h"
#include "core/train/run_folder.h"
#include "core/train/sweep.h"

namespace scalelab::cli {

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

// Train options a sweep does not take: where a run goes and how it reports are the sweep's, and
// --allow-memory is not recorded in a config (a planned run could not keep it).
const std::set<std::string> kNotSettings = {"help", "allow-memory"};
// Settings that may be base settings but not grid keys.
const std::set<std::string> kNotGridKeys = {"threads"};

struct PlanOptions {
    TrainOptions train;
    std::string out;
    std::vector<std::string> grid;
    std::string gridFile;
};

struct RunOptions {
    std::string dir;
    bool local = false;
    bool slurm = false;
    int jobs = 1;
    SlurmOptions slurmOptions;
};

struct StatusOptions {
    std::string dir;
    bool json = false;
};

// A fresh option table of the training settings, as `train` has it.
struct SettingsTable {
    CLI::App app{"train settings", "sweep"};
    TrainOptions options;
    SettingsTable() {
        app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
        app.set_help_flag();
        addTrainSettings(app, options);
    }
    // The option for a setting name ("batch-size"); nullptr when there is none.
    CLI::Option* find(const std::string& name) {
        if (kNotSettings.count(name)) {
            return nullptr;
        }
        return app.get_option_no_throw("--" + name);
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const CLI::Option* o : app.get_options()) {
            const std::string n = o->get_name();
            if (n.rfind("--", 0) == 0 && !kNotSettings.count(n.substr(2))) {
                out.push_back(n.substr(2));
            }
        }
        return out;
    }
};

bool isFlag(const CLI::Option* o) {
    return o->get_expected_max() == 0;  // a switch: given or not
}

// "batch_size", "--batch-size" -> "batch-size".
std::string settingName(std::string key) {
    while (!key.empty() && key[0] == '-') {
        key.erase(0, 1);
    }
    std::replace(key.begin(), key.end(), '_', '-');
    return key;
}

std::string trim(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t");
    const size_t b = s.find_last_not_of(" \t");
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
        const size_t at = text.find(sep, start);
        out.push_back(trim(text.substr(start, at - start)));
        if (at == std::string::npos) {
            return out;
        }
        start = at + 1;
    }
}

// A flag's value as the plan stores it ("true" / "false").
std::string flagValue(const std::string& key, const std::string& v) {
    std::string l = v;
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
    if (l == "true" || l == "yes" || l == "on" || l == "1") {
        return "true";
    }
    if (l == "false" || l == "no" || l == "off" || l == "0") {
        return "false";
    }
    throw UsageError("grid key '" + key + "' is a switch: its values are true or false (got '" + v +
                     "')");
}

// The grid's axes from --grid-file and --grid, keys checked against the settings.
std::vector<SweepAxis> readGrid(const PlanOptions& o, SettingsTable& table) {
    std::vector<SweepAxis> grid;
    if (!o.gridFile.empty()) {
        const auto bytes = readFileBytes(o.gridFile, kMaxJsonBytes);
        const ojson j = ojson::parse(bytes.begin(), bytes.end(), nullptr, false);
        const ojson* axes = &j;
        if (j.is_object() && j.contains("grid") && j["grid"].is_object()) {
            axes = &j["grid"];
        }
        if (j.is_discarded() || !axes->is_object()) {
            throw UsageError(o.gridFile +
                             ": expected a JSON object of setting -> list of values, e.g. "
                             "{\"lr\": [0.1, 0.05], \"seed\": [1, 2, 3]}");
        }
        for (const auto& [key, values] : axes->items()) {
            SweepAxis a;
            a.key = key;
            const ojson list = values.is_array() ? values : ojson::array({values});
            for (const ojson& v : list) {
                if (v.is_string()) {
                    a.values.push_back(v.get<std::string>());
                } else if (v.is_boolean() || v.is_number()) {
                    a.values.push_back(v.dump());
                } else if (v.is_array() && std::all_of(v.begin(), v.end(), [](const ojson& e) {
                               return e.is_number_integer();
                           })) {
                    std::string text;  // a list parameter ("blocks": [[2, 2], [3, 3]])
                    for (const ojson& e : v) {
                        text += (text.empty() ? "" : ",") + e.dump();
                    }
                    a.values.push_back(text);
                } else {
                    throw UsageError(o.gridFile + ": grid key '" + key +
                                     "': values must be strings, numbers, true/false or lists "
                                     "of whole numbers");
                }
            }
            grid.push_back(a);
        }
    }
    for (const std::string& g : o.grid) {
        const size_t eq = g.find('=');
        if (eq == std::string::npos || trim(g.substr(0, eq)).empty()) {
            throw UsageError("--grid expects KEY=V1,V2,... (got '" + g + "')");
        }
        SweepAxis a;
        a.key = trim(g.substr(0, eq));
        const std::string values = g.substr(eq + 1);
        // List-valued settings (--blocks 2,2,2,2) separate their values with ';'.
        a.values = split(values, values.find(';') != std::string::npos ? ';' : ',');
        if (values.empty()) {
            a.values.clear();
        }
        grid.push_back(a);
    }
    if (grid.empty()) {
        throw UsageError(
            "the grid is empty: give --grid KEY=V1,V2,... (repeatable) or --grid-file FILE.json");
    }
    for (SweepAxis& a : grid) {
        const std::string given = a.key;
        a.key = settingName(a.key);
        const CLI::Option* opt = table.find(a.key);
        if (opt == nullptr) {
            std::string names;
            for (const std::string& n : table.names()) {
                names += (names.empty() ? "" : ", ") + n;
            }
            throw UsageError("grid key '" + given +
                             "' is not a training setting; the settings: " + wrapText(names, 90));
        }
        if (kNotGridKeys.count(a.key)) {
            throw UsageError("grid key '" + a.key +
                             "' is the executor's choice, not a run's setting (sweep run --local "
                             "splits the cores; on SLURM --cpus-per-task)");
        }
        if (isFlag(opt)) {
            for (std::string& v : a.values) {
                v = flagValue(a.key, v);
            }
        }
    }
    try {
        expandGrid(grid);  // the grid's own checks: empty axes, repeated keys and values
    } catch (const SpecError& e) {
        throw UsageError(e.what());
    }
    return grid;
}

// The settings given on the command line, by name, sorted; flags as "true".
SweepSettings baseSettings(const CLI::App& sub, SettingsTable& table) {
    SweepSettings base;
    for (const std::string& name : table.names()) {
        const CLI::Option* opt = sub.get_option_no_throw("--" + name);
        if (opt == nullptr || opt->count() == 0) {
            continue;
        }
        base.emplace_back(name, isFlag(opt) ? "true" : opt->results().back());
    }
    std::sort(base.begin(), base.end());
    return base;
}

std::string describePoint(const SweepSettings& point) {
    std::string out;
    for (const auto& [k, v] : point) {
        out += (out.empty() ? "" : ", ") + k + "=" + v;
    }
    return out;
}

// One run's config: base + point read by the option table, resolved like `train` does.
TrainConfig resolvePoint(const SweepSettings& base, const SweepSettings& point,
                         std::map<std::string, DatasetSummary>& datasets) {
    SettingsTable table;
    std::vector<std::string> args;
    for (const SweepSettings* s : {&base, &point}) {
        for (const auto& [key, value] : *s) {
            if (isFlag(table.find(key))) {
                if (value == "true") {
                    args.push_back("--" + key);
                }
            } else {
                args.push_back("--" + key + "=" + value);
            }
        }
    }
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
    try {
        table.app.parse(args);
    } catch (const CLI::ParseError& e) {
        throw UsageError(e.what());
    }
    const std::string& spec = table.options.config.dataset;
    if (!datasets.count(spec)) {
        datasets[spec] = describeTrainDataset(spec);
    }
    TrainConfig c = resolveTrainConfig(table.options, table.app, datasets[spec]);
    validateTrainConfig(c);
    return c;
}

std::string gridText(const SweepPlan& p) {
    std::string out;
    for (const SweepAxis& a : p.grid) {
        // As --grid takes them: list values ("2,2,2") separated by ';'.
        const bool lists = std::any_of(a.values.begin(), a.values.end(),
                                       [](const std::string& v) { return v.find(',') != v.npos; });
        std::string values;
        for (const std::string& v : a.values) {
            values += (values.empty() ? "" : lists ? ";" : ",") + v;
        }
        out += (out.empty() ? "" : " x ") + a.key + "=" + values;
    }
    return out;
}

int planSweep(PlanOptions& o, const CLI::App& sub) {
    SettingsTable table;
    if (sub.count("--allow-memory")) {
        throw UsageError(
            "--allow-memory is not part of a run's record, so a sweep cannot keep it; "
            "lower --batch-size or --resolution instead");
    }
    SweepPlan plan;
    plan.grid = readGrid(o, table);
    plan.base = baseSettings(sub, table);
    for (const SweepAxis& a : plan.grid) {
        for (const auto& [key, value] : plan.base) {
            if (key == a.key) {
                throw UsageError("--" + key +
                                 " is given as a base setting and as a grid key; give " +
                                 "it once");
            }
        }
    }
    // The folder first: a sweep planned with another grid, or a folder that is something else,
    // is refused before any run is resolved.
    const std::string path = joinPath(o.out, sweepfile::kPlan);
    SweepPlan old;
    const bool replan = fileExists(path);
    if (replan) {
        old = readSweepPlan(o.out);
        const bool sameGrid = gridText(old) == gridText(plan);
        if (!sameGrid || old.base != plan.base) {
            throw Error(path + " was planned with " +
                        (sameGrid ? "other base settings (" + describePoint(old.base) + ")"
                                  : "another grid (" + gridText(old) + ")") +
                        "; this plan has " +
                        (sameGrid ? "base " + describePoint(plan.base) : "grid " + gridText(plan)) +
                        ". Plan into another folder (nothing was written)");
        }
    } else if (dirExists(o.out)) {
        std::error_code ec;
        std::string held;
        for (const auto& e : fs::directory_iterator(o.out, ec)) {
            held += (held.empty() ? "" : ", ") + e.path().filename().string();
        }
        if (!held.empty()) {
            throw Error(o.out + " is not empty and holds no " + sweepfile::kPlan + " (" + held +
                        "); plan into a new or empty folder (nothing was written)");
        }
    } else if (fileExists(o.out)) {
        throw Error(o.out + " is a file; plan into a new or empty folder");
    }

    // Every run resolved and checked before anything is written.
    std::map<std::string, DatasetSummary> datasets;
    std::vector<std::string> problems;
    std::map<std::string, int64_t> configs;  // config hash -> the first run with it
    const std::vector<SweepSettings> points = expandGrid(plan.grid);
    for (size_t i = 0; i < points.size(); ++i) {
        SweepRun run;
        run.index = int64_t(i);
        run.point = points[i];
        try {
            run.config = resolvePoint(plan.base, run.point, datasets);
        } catch (const std::exception& e) {
            if (problems.size() < 10) {
                problems.push_back("run " + std::to_string(i) + " (" + describePoint(run.point) +
                                   "): " + e.what());
            }
            continue;
        }
        run.id = sweepRunId(run.point, run.config);
        const std::string hash = sweepConfigHash(run.config);
        if (configs.count(hash)) {
            const SweepRun& first = plan.runs[size_t(configs[hash])];
            problems.push_back("runs " + std::to_string(first.index) + " (" +
                               describePoint(first.point) + ") and " + std::to_string(i) + " (" +
                               describePoint(run.point) +
                               ") train the same config; drop one of the values");
        } else {
            configs[hash] = int64_t(plan.runs.size());
        }
        plan.runs.push_back(run);
    }
    if (!problems.empty()) {
        std::string list;
        for (const std::string& p : problems) {
            list += "\n  " + p;
        }
        throw UsageError("the grid plans runs that cannot train (nothing was written):" + list);
    }
    if (replan) {
        if (sweepPlanToJson(old) == sweepPlanToJson(plan)) {
            std::printf("%s already holds this plan: %zu runs, unchanged\n", path.c_str(),
                        plan.runs.size());
            return 0;
        }
        for (size_t i = 0; i < plan.runs.size() && i < old.runs.size(); ++i) {
            if (plan.runs[i].id != old.runs[i].id) {
                throw Error(path + ": the same grid now plans run " + std::to_string(i) +
                            " differently (" + old.runs[i].id + " then, " + plan.runs[i].id +
                            " now: this ScaleLab resolves its settings to another config). Plan "
                            "into another folder (nothing was written)");
            }
        }
        throw Error(path +
                    " holds another plan of the same grid; plan into another folder "
                    "(nothing was written)");
    }
    writeSweepPlan(o.out, plan);
    std::printf("planned %zu runs (%s) into %s\n", plan.runs.size(), gridText(plan).c_str(),
                path.c_str());
    std::printf("%5s  %s\n", "INDEX", "ID");
    for (const SweepRun& r : plan.runs) {
        std::printf("%5lld  %s\n", (long long)r.index, r.id.c_str());
    }
    std::printf(
        "train one: scalelab-cli train --sweep %s --index I\nrun all:   scalelab-cli sweep run %s "
        "--local --jobs K  (or --slurm)\n",
        o.out.c_str(), o.out.c_str());
    return 0;
}

int runSweep(const RunOptions& o, const CLI::App& sub) {
    if (o.local == o.slurm) {
        throw UsageError("sweep run needs one executor: --local or --slurm");
    }
    const std::vector<std::string> slurmOnly = {"--partition",    "--gres",         "--time",
                                                "--account",      "--max-parallel", "--dry-run",
                                                "--cpus-per-task"};
    for (const std::string& name : slurmOnly) {
        if (o.local && sub.count(name)) {
            throw UsageError(name + " belongs to --slurm, not --local");
        }
    }
    if (o.slurm && sub.count("--jobs")) {
        throw UsageError(
            "--jobs belongs to --local; with --slurm, --max-parallel K limits the "
            "tasks running at once");
    }
    const SweepPlan plan = readSweepPlan(o.dir);
    if (o.local) {
        return runSweepLocal(o.dir, plan, o.jobs);
    }
    return runSweepSlurm(o.dir, plan, o.slurmOptions);
}

}  // namespace

Command addSweep(CLI::App& app) {
    CLI::App* sweep = app.add_subcommand(
        "sweep",
        "plan a grid of runs (sweep plan), run it here or on SLURM (sweep run), see where it "
        "stands (sweep status)");
    sweep->require_subcommand(1);

    auto plan = std::make_shared<PlanOptions>();
    CLI::App* planCmd = sweep->add_subcommand(
        "plan",
        "expand a grid over train settings into DIR/sweep.json (base settings: the usual train "
        "options); every run is checked first, and re-planning the same grid is a no-op");
    planCmd->add_option("--out", plan->out, "the sweep folder (created)")
        ->type_name("DIR")
        ->required();
    planCmd
        ->add_option("--grid", plan->grid,
                     wrapText("a grid key and its values: a train setting (model, width, depth, "
                              "resolution, phi, blocks, lr, batch-size, epochs, seed, ...) and "
                              "V1,V2,...; list settings separate values with ';' "
                              "(blocks=2,2,2,2;3,4,6,3); repeat for more keys"))
        ->type_name("KEY=V1,V2,...")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    planCmd
        ->add_option("--grid-file", plan->gridFile,
                     "the grid as a JSON object of setting -> list of values")
        ->type_name("FILE");
    addTrainSettings(*planCmd, plan->train);
    planCmd->footer(modelNamesHelp());

    auto run = std::make_shared<RunOptions>();
    CLI::App* runCmd = sweep->add_subcommand(
        "run",
        "run the unfinished runs of a sweep: --local here, K at a time (Ctrl-C stops cleanly; "
        "run again to continue), or --slurm as a job array submitted with sbatch");
    runCmd->add_option("dir", run->dir, "the sweep folder")->type_name("DIR")->required();
    runCmd->add_flag("--local", run->local, "run here, --jobs at a time");
    runCmd->add_flag("--slurm", run->slurm,
                     "write DIR/sweep.sbatch (a job array) and submit it with sbatch");
    runCmd
        ->add_option("--jobs", run->jobs,
                     "--local: runs at once; each gets max(1, cores / K) threads")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(1, 256));
    SlurmOptions& s = run->slurmOptions;
    runCmd->add_option("--partition", s.partition, "--slurm: the partition")->type_name("P");
    runCmd->add_option("--gres", s.gres, "--slurm: generic resources per task, e.g. gpu:1")
        ->type_name("GRES");
    runCmd->add_option("--time", s.time, "--slurm: time limit per task, e.g. 02:00:00")
        ->type_name("TIME");
    runCmd->add_option("--account", s.account, "--slurm: the account to charge")->type_name("A");
    runCmd
        ->add_option("--max-parallel", s.maxParallel,
                     "--slurm: at most K tasks at once (the array's %K; default: no limit)")
        ->type_name("K")
        ->transform(Decimal)
        ->check(CLI::Range(1, 100000));
    runCmd
        ->add_option("--cpus-per-task", s.cpusPerTask,
                     "--slurm: CPUs per task, also each run's threads (default: the cluster's, "
                     "1 thread)")
        ->type_name("C")
        ->transform(Decimal)
        ->check(CLI::Range(1, 4096));
    runCmd->add_flag("--dry-run", s.dryRun, "--slurm: write DIR/sweep.sbatch, submit nothing");

    auto status = std::make_shared<StatusOptions>();
    CLI::App* statusCmd = sweep->add_subcommand(
        "status",
        "each run's state from its record, and from squeue/sacct when the sweep went to SLURM: "
        "queued, running, done, failed (with its log)");
    statusCmd->add_option("dir", status->dir, "the sweep folder")->type_name("DIR")->required();
    statusCmd->add_flag("--json", status->json, "the states as JSON");

    for (CLI::App* c : {planCmd, runCmd, statusCmd}) {
        c->description(wrapText(c->get_description(), 66));
        c->set_help_flag("-h,--help", "print this help and exit");
    }
    return {sweep, [=] {
                if (planCmd->parsed()) {
                    return planSweep(*plan, *planCmd);
                }
                if (runCmd->parsed()) {
                    return runSweep(*run, *runCmd);
                }
                return showSweepStatus(status->dir, readSweepPlan(status->dir), status->json);
            }};
}

}  // namespace scalelab::cli
