// scalelab-render-icons SVG OUTDIR SIZE...: renders the application icon to
// OUTDIR/scalelab-SIZE.png for each size. The build target `render-icons` runs it with the sizes
// resources/CMakeLists.txt lists (scripts/render_icons.sh); the PNGs are committed, so building
// ScaleLab needs no SVG tool.

#include <QImage>
#include <QPainter>
#include <QSvgRenderer>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s SVG OUTDIR SIZE...\n", argv[0]);
        return 2;
    }
    QSvgRenderer svg(QString::fromLocal8Bit(argv[1]));
    if (!svg.isValid()) {
        std::fprintf(stderr, "error: cannot read %s as SVG\n", argv[1]);
        return 1;
    }
    for (int i = 3; i < argc; ++i) {
        const int size = std::atoi(argv[i]);
        if (size < 1 || size > 4096) {
            std::fprintf(stderr, "error: size '%s' is not 1..4096\n", argv[i]);
            return 2;
        }
        QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
        image.fill(Qt::transparent);
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        svg.render(&painter);
        painter.end();
        const QString path =
            QString::fromLocal8Bit(argv[2]) + QString("/scalelab-%1.png").arg(size);
        if (!image.convertToFormat(QImage::Format_ARGB32).save(path, "PNG")) {
            std::fprintf(stderr, "error: cannot write %s\n", qPrintable(path));
            return 1;
        }
        std::printf("%s (%dx%d)\n", qPrintable(path), size, size);
    }
    return 0;
}
