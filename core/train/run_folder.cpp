#include "core/train/run_folder.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/data/file_io.h"
#include "core/error.h"

namespace scalelab {

namespace fs = std::filesystem;

namespace {
const char* const kChecksums = "checksums.json";

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
    static const std::vector<std::string> names = {"config.json",   "summary.json", "metrics.csv",
                                                   "checkpoint.pt", "weights.pt",   "plan.json",
                                                   kChecksums};
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

}  // namespace scalelab
