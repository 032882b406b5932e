// libFuzzer target: the GUI's session reader (ui/session.cpp, Qt's JSON plus the core's record
// mapping for each run's config, history and summary). Every input must end as "" or a message
// naming the file -- never an exception, a crash or a sanitizer report. Seed corpus:
// tests/fuzz/corpus/session/.
#include <QCoreApplication>
#include <QString>

#include "tests/fuzz/fuzz_common.h"
#include "ui/session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string path = fuzz::scratch() + "/session.json";
    fuzz::writeFile(path, data, size);
    scalelab::ui::Session session;
    const QString message = session.load(QString::fromStdString(path));
    if (!message.isEmpty() && !message.contains(QString::fromStdString(path))) {
        std::abort();  // a message that does not name the file is a finding too
    }
    return 0;
}
