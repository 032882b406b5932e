#include "core/train/run_folder.h"

#include <torch/torch.h>

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/data/file_io.h"
#include "core/error.h"
#include "core/json_enums.h"
#include "core/models/model.h"
#include "core/models/spec_json.h"
#include "core/train/records_json.h"
#include "core/train/run_loader.h"

namespace scalelab {

namespace fs = std::filesystem;

using ojson = nlohmann::ordered_json;
using runfile::kChecksums;

namespace {

std::string toHex(const unsigned char* digest, unsigned int len) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}
}  // namespace

const std::vector<std::string>& runFileNames() {
    static const std::vector<std::string> names = {
        runfile::kConfig,  runfile::kSummary, runfile::kMetrics,  runfile::kCheckpoint,
        runfile::kWeights, runfile::kPlan,    runfile::kChecksums};
    return names;
}

bool isRunFileName(const std::string& name) {
    for (const std::string& n : runFileNames()) {
        if (n == name) {
            return true;
        }
    }
    return false;
}

std::vector<std::string> runFilesIn(const std::string& dir) {
    std::vector<std::string> out;
    for (const std::string& n : runFileNames()) {
        if (fileExists(joinPath(dir, n))) {
            out.push_back(n);
        }
    }
    return out;
}

void requireNoRunFiles(const std::string& dir, const std::string& what) {
    const auto present = runFilesIn(dir);
    if (present.empty()) {
        return;
    }
    std::string list;
    for (const auto& n : present) {
        list += (list.empty() ? "" : ", ") + n;
    }
    throw SpecError(what + " " + dir + " already holds run files (" + list +
                    "); resume that run or choose an empty folder -- nothing was overwritten");
}

void requireNotRunFile(const std::string& path, const std::string& what) {
    const std::string name = fs::path(path).filename().string();
    if (isRunFileName(name)) {
        throw SpecError(what + " " + path + " is a run folder's own file (" + name +
                        "); choose another name -- nothing was overwritten");
    }
}

std::string sha256Hex(const void* data, size_t size) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data, size, digest, &len, EVP_sha256(), nullptr) != 1) {
        throw Error("SHA-256 could not be computed (OpenSSL)");
    }
    return toHex(digest, len);
}

std::string sha256File(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        throw DataError(path + ": cannot open for reading (" + std::strerror(errno) + ")");
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    std::vector<unsigned char> buf(size_t(1) << 20);
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
        EVP_DigestUpdate(ctx, buf.data(), n);
    }
    const bool readError = std::ferror(f);
    std::fclose(f);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, digest, &len);
    EVP_MD_CTX_free(ctx);
    if (readError) {
        throw DataError(path + ": read error while computing its checksum");
    }
    return toHex(digest, len);
}

namespace {

nlohmann::json readChecksums(const std::string& dir) {
    const std::string path = joinPath(dir, kChecksums);
    if (!fileExists(path)) {
        return nlohmann::json::object();
    }
    const auto bytes = readFileBytes(path, kMaxJsonBytes);
    nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        throw DataError(path +
                        ": not a JSON object of checksums (damaged); the run's files "
                        "cannot be verified");
    }
    return j;
}

}  // namespace

void recordChecksum(const std::string& dir, const std::string& name) {
    nlohmann::json j = readChecksums(dir);
    j[name] = {{"sha256", sha256File(joinPath(dir, name))}};
    writeFileAtomic(joinPath(dir, kChecksums), j.dump(2) + "\n");
}

void verifyChecksum(const std::string& dir, const std::string& name) {
    const nlohmann::json j = readChecksums(dir);
    if (!j.contains(name)) {
        return;
    }
    const auto& entry = j.at(name);
    if (!entry.is_object() || !entry.contains("sha256") || !entry.at("sha256").is_string()) {
        throw DataError(joinPath(dir, kChecksums) + ": the entry for " + name + " is damaged");
    }
    const std::string want = entry.at("sha256").get<std::string>();
    const std::string path = joinPath(dir, name);
    if (!fileExists(path)) {
        throw DataError(path + ": missing, but the run recorded it (checksums.json)");
    }
    const std::string have = sha256File(path);
    if (have != want) {
        throw DataError(path + ": checksum mismatch (recorded SHA-256 " + want.substr(0, 16) +
                        "..., the file now has " + have.substr(0, 16) +
                        "...): it was changed or damaged after it was written; nothing was "
                        "overwritten");
    }
}

RunFolderLock::RunFolderLock(const std::string& dir) {
    const std::string path = joinPath(dir, ".lock");
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        throw Error(path + ": cannot create the run folder's lock (" + std::strerror(errno) + ")");
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        char buf[32] = {};
        const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
        ::close(fd_);
        fd_ = -1;
        const std::string pid = n > 0 ? std::string(buf, size_t(n)) : "another process";
        throw SpecError(dir + " is in use by process " + pid +
                        " (a training or resume writes there); wait for it to finish or choose "
                        "another folder -- nothing was written");
    }
    const std::string pid = std::to_string(::getpid());
    if (::ftruncate(fd_, 0) == 0) {
        (void)!::pwrite(fd_, pid.data(), pid.size(), 0);
    }
}

RunFolderLock::~RunFolderLock() {
    if (fd_ >= 0) {
        (void)!::ftruncate(fd_, 0);
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
}

int runFolderLockHolder(const std::string& dir) {
    struct stat st {};
    if (::stat(joinPath(dir, ".lock").c_str(), &st) != 0) {
        return 0;
    }
    // Lines like "1: FLOCK  ADVISORY  WRITE 1234 00:2e:5678 0 EOF" (device in hex, inode).
    std::ifstream locks("/proc/locks");
    std::string line;
    while (std::getline(locks, line)) {
        std::istringstream in(line);
        std::string id, kind, mode, access, pid, where;
        if (!(in >> id >> kind)) {
            continue;
        }
        if (kind == "->") {
            in >> kind;  // a waiter: "2: -> FLOCK ..."
            continue;
        }
        if (kind != "FLOCK" || !(in >> mode >> access >> pid >> where)) {
            continue;
        }
        unsigned major = 0, minor = 0;
        unsigned long long inode = 0;
        if (std::sscanf(where.c_str(), "%x:%x:%llu", &major, &minor, &inode) == 3 &&
            inode == static_cast<unsigned long long>(st.st_ino) && major == ::major(st.st_dev) &&
            minor == ::minor(st.st_dev)) {
            return std::atoi(pid.c_str());
        }
    }
    return 0;
}

void discardRunWithoutEpochs(const std::string& dir) {
    const RunFolderLock lock(dir);
    if (fileExists(joinPath(dir, runfile::kCheckpoint))) {
        throw SpecError(dir + " holds a checkpoint: resume it instead of starting over");
    }
    if (recordedRunState(dir).first == RunState::Completed) {
        throw SpecError(dir + " is a completed run; it is left as it is");
    }
    removeStaleTempFiles(dir);
    for (const std::string& name : runFilesIn(dir)) {
        std::error_code ec;
        fs::remove(joinPath(dir, name), ec);
        if (ec) {
            throw Error(joinPath(dir, name) + ": cannot remove (" + ec.message() + ")");
        }
    }
}

std::string runFolderWriter(const std::string& dir, bool* aliveHere) {
    // A writer on this machine holds the flock: the kernel knows it (and forgets a killed one).
    const int holder = runFolderLockHolder(dir);
    if (aliveHere) {
        *aliveHere = holder > 0;
    }
    if (holder > 0) {
        return std::to_string(holder);
    }
    // Else the PID a writer elsewhere (a cluster node) left in the file, if any.
    const int fd = ::open(joinPath(dir, ".lock").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return {};
    }
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    const std::string pid = n > 0 ? std::string(buf, size_t(n)) : std::string();
    return pid.find_first_not_of("0123456789") == std::string::npos ? pid : std::string();
}

int removeStaleTempFiles(const std::string& dir) {
    int removed = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        const size_t at = name.rfind(".tmp-");
        if (at == std::string::npos) {
            continue;
        }
        const std::string pidText = name.substr(at + 5);
        if (pidText.empty() || pidText.find_first_not_of("0123456789") != std::string::npos ||
            pidText.size() > 9) {
            continue;
        }
        const int pid = std::stoi(pidText);
        const bool alive = pid == ::getpid() || ::kill(pid, 0) == 0 || errno == EPERM;
        if (!alive && fs::remove(e.path(), ec)) {
            ++removed;
        }
    }
    return removed;
}

// --- config.json ----------------------------------------------------------------------------

void writeRunConfig(const std::string& dir, const TrainConfig& config, const ojson& extra) {
    ojson j = config;
    for (auto it = extra.begin(); it != extra.end(); ++it) {
        j[it.key()] = it.value();
    }
    writeFileAtomic(joinPath(dir, runfile::kConfig), j.dump(2) + "\n");
}

nlohmann::json readRunConfigJson(const std::string& dir) {
    const std::string path = joinPath(dir, runfile::kConfig);
    const auto bytes = readFileBytes(path, kMaxJsonBytes);
    return parseJsonText(std::string(bytes.begin(), bytes.end()), path);
}

TrainConfig readRunConfig(const std::string& dir) {
    const std::string path = joinPath(dir, runfile::kConfig);
    const auto bytes = readFileBytes(path, kMaxJsonBytes);
    TrainConfig c = recordFromJsonText<TrainConfig>(std::string(bytes.begin(), bytes.end()), path);
    try {
        validateTrainConfig(c);  // the same ranges as the CLI's options
    } catch (const SpecError& e) {
        throw DataError(path + ": " + e.what());
    }
    return c;
}

bool readRunNormalization(const std::string& dir, int64_t channels, std::vector<float>& mean,
                          std::vector<float>& std) {
    const nlohmann::json cfg = readRunConfigJson(dir);
    if (!cfg.contains("normalization")) {
        return false;
    }
    const std::string where = joinPath(dir, runfile::kConfig) + ": normalization";
    const auto& n = cfg["normalization"];
    auto list = [&](const char* key, std::vector<float>& out) {
        if (!n.is_object() || !n.contains(key) || !n[key].is_array()) {
            throw DataError(where + " must hold 'mean' and 'std' lists of numbers");
        }
        out.clear();
        for (const auto& v : n[key]) {
            if (!v.is_number()) {
                throw DataError(where + " must hold 'mean' and 'std' lists of numbers");
            }
            out.push_back(v.get<float>());
        }
    };
    list("mean", mean);
    list("std", std);
    if (int64_t(mean.size()) != channels || int64_t(std.size()) != channels) {
        throw DataError(where + " has " + std::to_string(mean.size()) + "/" +
                        std::to_string(std.size()) + " values for a " + std::to_string(channels) +
                        "-channel model");
    }
    for (size_t i = 0; i < std.size(); ++i) {
        if (!std::isfinite(mean[i]) || !std::isfinite(std[i]) || !(std[i] > 0)) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "channel %zu has mean %.3g, std %.3g", i,
                          double(mean[i]), double(std[i]));
            throw DataError(where + ": " + buf + " (std must be a finite number > 0)");
        }
    }
    return true;
}

// --- metrics.csv, summary.json --------------------------------------------------------------

namespace {
std::string num(const char* format, double v) {
    char buf[48];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}
}  // namespace

void writeRunMetrics(const std::string& dir, const std::vector<EpochMetrics>& history) {
    std::string out = "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds,images_per_s\n";
    for (const EpochMetrics& e : history) {
        out += std::to_string(e.epoch) + "," + num("%.9g", e.trainLoss) + "," +
               num("%.9g", e.trainAccuracy) + "," +
               (e.valLoss < 0 ? std::string() : num("%.9g", e.valLoss)) + "," +
               (e.valAccuracy < 0 ? std::string() : num("%.9g", e.valAccuracy)) + "," +
               num("%.9g", e.lr) + "," + num("%.3f", e.seconds) + "," +
               num("%.1f", e.imagesPerSec) + "\n";
    }
    writeFileAtomic(joinPath(dir, runfile::kMetrics), out);
}

void writeRunSummary(const std::string& dir, const TrainConfig& c, const TrainSummary& s,
                     const std::string& deviceName) {
    ojson j = s;
    // What the run was, next to what became of it (kept after "completed" for readers).
    ojson out;
    for (auto it = j.begin(); it != j.end(); ++it) {
        out[it.key()] = it.value();
        if (it.key() == "completed") {
            out["model"] = c.model.name;
            out["dataset"] = c.dataset;
            out["device"] = deviceName;
        } else if (it.key() == "epochs_done") {
            out["epochs_planned"] = c.epochs;
        }
    }
    writeFileAtomic(joinPath(dir, runfile::kSummary), out.dump(2) + "\n");
}

std::vector<EpochMetrics> readRunMetrics(const std::string& dir) {
    const std::string path = joinPath(dir, runfile::kMetrics);
    const auto bytes = readFileBytes(path, kMaxJsonBytes);
    std::vector<EpochMetrics> out;
    size_t lineNo = 0, start = 0;
    const std::string text(bytes.begin(), bytes.end());
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        if (++lineNo == 1 || line.empty()) {
            continue;  // the header
        }
        std::vector<std::string> cells;
        size_t from = 0;
        while (true) {
            const size_t comma = line.find(',', from);
            cells.push_back(line.substr(from, comma - from));
            if (comma == std::string::npos) {
                break;
            }
            from = comma + 1;
        }
        const std::string where = path + ", line " + std::to_string(lineNo);
        if (cells.size() != 8) {
            throw DataError(where + ": " + std::to_string(cells.size()) +
                            " columns, expected 8 (epoch,train_loss,train_acc,val_loss,val_acc,"
                            "lr,seconds,images_per_s)");
        }
        auto number = [&](size_t i, bool optional) {
            if (optional && cells[i].empty()) {
                return -1.0;
            }
            char* stop = nullptr;
            const double v = std::strtod(cells[i].c_str(), &stop);
            if (cells[i].empty() || *stop != '\0' || !std::isfinite(v)) {
                throw DataError(where + ": column " + std::to_string(i + 1) + " ('" + cells[i] +
                                "') is not a finite number");
            }
            return v;
        };
        EpochMetrics e;
        const double epoch = number(0, false);
        if (epoch < 1 || epoch > 100000 || epoch != std::floor(epoch)) {
            throw DataError(where + ": epoch '" + cells[0] + "' is not a whole number 1..100000");
        }
        e.epoch = int64_t(epoch);
        e.trainLoss = number(1, false);
        e.trainAccuracy = number(2, false);
        e.valLoss = number(3, true);
        e.valAccuracy = number(4, true);
        e.lr = number(5, false);
        e.seconds = number(6, false);
        e.imagesPerSec = number(7, false);
        for (double a : {e.trainAccuracy, e.valAccuracy}) {
            if (a != -1.0 && !(a >= 0 && a <= 1)) {
                throw DataError(where + ": an accuracy outside [0, 1]");
            }
        }
        out.push_back(e);
    }
    return out;
}

RunFolderRecord readRunFolder(const std::string& dir) {
    RunFolderRecord r;
    r.dir = dir;
    r.config = readRunConfig(dir);
    if (fileExists(joinPath(dir, runfile::kMetrics))) {
        r.history = readRunMetrics(dir);
    }
    if (fileExists(joinPath(dir, runfile::kSummary))) {
        r.summary = readRunSummary(dir);
        r.hasSummary = true;
    }
    r.summary.runDir = dir;
    r.summary.history = r.history;
    return r;
}

std::vector<std::string> findRunFolders(const std::string& dir, int depth) {
    std::vector<std::string> out;
    if (fileExists(joinPath(dir, runfile::kConfig))) {
        out.push_back(dir);
        return out;
    }
    if (depth <= 0) {
        return out;
    }
    std::error_code ec;
    std::vector<std::string> children;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        std::error_code typeEc;
        if (e.is_directory(typeEc) && !e.is_symlink(typeEc)) {
            children.push_back(e.path().string());
        }
    }
    std::sort(children.begin(), children.end());
    for (const std::string& c : children) {
        for (const std::string& f : findRunFolders(c, depth - 1)) {
            out.push_back(f);
        }
    }
    return out;
}

void writeRunLabel(const std::string& dir, const RunLabel& label) {
    nlohmann::ordered_json j;
    j["name"] = label.name;
    j["notes"] = label.notes;
    writeFileAtomic(joinPath(dir, runfile::kLabel), j.dump(2) + "\n");
}

RunLabel readRunLabel(const std::string& dir) {
    const std::string path = joinPath(dir, runfile::kLabel);
    RunLabel label;
    if (!fileExists(path)) {
        return label;
    }
    const auto bytes = readFileBytes(path, kMaxJsonBytes);
    const nlohmann::json j = parseJsonText(std::string(bytes.begin(), bytes.end()), path);
    if (!j.is_object()) {
        throw DataError(path + ": expected an object with 'name' and 'notes'");
    }
    for (const auto& [key, field] :
         {std::pair{"name", &label.name}, std::pair{"notes", &label.notes}}) {
        if (j.contains(key)) {
            if (!j.at(key).is_string()) {
                throw DataError(path + ": field '" + key + "' must be a string");
            }
            *field = j.at(key).get<std::string>();
        }
    }
    return label;
}

// --- pruning sweeps --------------------------------------------------------------------------

void writePruneSweep(const PruneSweepRecord& record) {
    std::error_code ec;
    fs::create_directories(record.dir, ec);
    if (ec) {
        throw Error(record.dir + ": cannot create the pruning folder (" + ec.message() + ")");
    }
    writeFileAtomic(joinPath(record.dir, runfile::kPruningCsv), pruneResultToCsv(record.result));
    writeFileAtomic(joinPath(record.dir, runfile::kPruningJson), pruneSweepToJson(record));
}

PruneSweepRecord readPruneSweep(const std::string& dir) {
    const std::string path = joinPath(dir, runfile::kPruningJson);
    const auto bytes = readFileBytes(path, kMaxJsonBytes);
    PruneSweepRecord r = pruneSweepFromJson(std::string(bytes.begin(), bytes.end()), path);
    r.dir = dir;
    return r;
}

std::vector<std::string> findPruneSweeps(const std::string& runDir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(runDir, ec)) {
        std::error_code typeEc;
        if (e.is_directory(typeEc) && !e.is_symlink(typeEc) &&
            fileExists(joinPath(e.path().string(), runfile::kPruningJson))) {
            out.push_back(e.path().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

TrainSummary readRunSummary(const std::string& dir) {
    const std::string path = joinPath(dir, runfile::kSummary);
    const auto bytes = readFileBytes(path, kMaxJsonBytes);
    TrainSummary s =
        recordFromJsonText<TrainSummary>(std::string(bytes.begin(), bytes.end()), path);
    s.runDir = dir;
    return s;
}

std::pair<RunState, std::string> recordedRunState(const std::string& dir) {
    if (!fileExists(joinPath(dir, runfile::kSummary))) {
        return {RunState::Running, ""};
    }
    try {
        const TrainSummary s = readRunSummary(dir);
        return {s.state, s.status};
    } catch (const Error&) {
        return {RunState::Running, ""};
    }
}

void markRunFailed(const std::string& dir, const std::string& reason) {
    const std::string path = joinPath(dir, runfile::kSummary);
    if (!fileExists(joinPath(dir, runfile::kConfig))) {
        return;
    }
    try {
        nlohmann::ordered_json j = nlohmann::ordered_json::object();
        if (fileExists(path)) {
            const auto bytes = readFileBytes(path, kMaxJsonBytes);
            j = nlohmann::ordered_json::parse(bytes.begin(), bytes.end(), nullptr, false);
            if (j.is_discarded() || !j.is_object()) {
                j = nlohmann::ordered_json::object();
            }
        }
        j["state"] = RunState::Failed;
        j["status"] = "failed: " + reason;
        j["completed"] = false;
        writeFileAtomic(path, j.dump(2) + "\n");
    } catch (const std::exception&) {
        // The disk refuses this too: the caller reports the original error.
    }
}

// --- checkpoint.pt, weights.pt, plan.json ---------------------------------------------------

void saveCheckpoint(const std::string& dir, ScaleModelImpl& model, torch::optim::Optimizer& opt,
                    const CheckpointState& state) {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive modelArchive, optArchive;
    model.save(modelArchive);
    opt.save(optArchive);
    archive.write("model", modelArchive);
    archive.write("optimizer", optArchive);
    archive.write("epoch", torch::tensor(state.epoch));
    archive.write("wall_seconds", torch::tensor(state.wall, torch::kFloat64));
    archive.write("history", c10::IValue(ojson(state.history).dump()));
    std::ostringstream bytes;
    archive.save_to(bytes);
    const std::string s = bytes.str();
    writeFileAtomic(joinPath(dir, runfile::kCheckpoint), s.data(), s.size());
    recordChecksum(dir, runfile::kCheckpoint);
}

namespace {

extern "C" void __sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));

// LibTorch's archive reader compiles the TorchScript type definitions stored in the file, and
// crashes (SEGV in ScriptTypeParser, found by fuzz_checkpoint) on some damaged ones. A child
// process parses the archive first, on the CPU, so that a damaged file ends as an error here
// instead of taking the program down. Where fork fails the load goes ahead unprobed.
void probeArchiveInChild(const std::vector<uint8_t>& bytes, const std::string& path) {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        return;
    }
    if (pid == 0) {
        // The child's crash is the parent's answer, not a report of its own (sanitizers, fuzzers).
        if (&__sanitizer_set_death_callback) {
            __sanitizer_set_death_callback(nullptr);
        }
        const int devNull = ::open("/dev/null", O_WRONLY);
        if (devNull >= 0) {
            ::dup2(devNull, 1);
            ::dup2(devNull, 2);
        }
        try {
            torch::set_num_threads(1);
            std::istringstream stream(std::string(bytes.begin(), bytes.end()));
            torch::serialize::InputArchive archive;
            archive.load_from(stream, torch::kCPU);
            ::_exit(0);
        } catch (...) {
            ::_exit(3);  // an ordinary error: the real load reports it
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status) ||
        (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3)) {
        throw DataError(path +
                        ": not a readable checkpoint (LibTorch's reader fails on it: "
                        "the file is damaged); nothing was loaded or written");
    }
}

}  // namespace

CheckpointState loadCheckpoint(const std::string& dir, ScaleModel& model,
                               torch::optim::Optimizer& opt, const torch::Device& device) {
    const std::string path = joinPath(dir, runfile::kCheckpoint);
    if (!fileExists(path)) {
        throw DataError(path + ": not found (the run has no finished epoch to resume from)");
    }
    CheckpointState st;
    try {
        const std::vector<uint8_t> bytes = readFileBytes(path, uint64_t(4) << 30);
        checkZipArchive(bytes, path);  // LibTorch's zip reader trusts the offsets it reads
        probeArchiveInChild(bytes, path);
        std::istringstream stream(std::string(bytes.begin(), bytes.end()));
        torch::serialize::InputArchive archive;
        archive.load_from(stream, device);
        torch::serialize::InputArchive modelArchive, optArchive;
        archive.read("model", modelArchive);
        archive.read("optimizer", optArchive);
        model->load(modelArchive);
        opt.load(optArchive);
        torch::Tensor epoch, wall;
        archive.read("epoch", epoch);
        archive.read("wall_seconds", wall);
        st.epoch = epoch.item<int64_t>();
        st.wall = wall.item<double>();
        c10::IValue history;
        archive.read("history", history);
        st.history = recordFromJsonText<std::vector<EpochMetrics>>(history.toStringRef(),
                                                                   path + ": history");
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw DataError(path + ": unreadable checkpoint (" + libraryMessage(e) + ")");
    }
    return st;
}

void saveRunWeights(const std::string& dir, ScaleModelImpl& model) {
    saveStateDictPickle(model, joinPath(dir, runfile::kWeights));
    recordChecksum(dir, runfile::kWeights);
}

void saveModelRecord(ScaleModelImpl& model, const TrainConfig& config, const std::string& dir,
                     const nlohmann::ordered_json& extra) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        throw Error(dir + ": cannot create the folder (" + ec.message() + ")");
    }
    TrainConfig c = config;
    c.model = model.spec();
    writeRunConfig(dir, c, extra);
    writeFileAtomic(joinPath(dir, runfile::kPlan), planToJson(model.plan()).dump(2) + "\n");
    recordChecksum(dir, runfile::kPlan);
    saveRunWeights(dir, model);
}

}  // namespace scalelab
